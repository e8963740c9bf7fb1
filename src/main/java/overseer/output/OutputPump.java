package overseer.output;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one stream of a process to its file until the stream ends, then forces the file to disk.
 * A write that fails (a full disk) is reported once and ends the writing, not the reading: the
 * process is still drained, so that it neither blocks on a full pipe nor dies of SIGPIPE, and
 * what reached the file before stays, counted in the index.
 */
final class OutputPump implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(OutputPump.class);
    private static final int BUFFER = 256 * 1024;

    private final InputStream in;
    private final Path path;
    private final OutputIndex combined;
    private final OutputIndex.Stream stream;
    private final SecretMask mask;
    private final OutputCapture.Quota quota;
    private final Consumer<String> failed;
    private FileChannel file;
    private boolean writing = true;

    OutputPump(
            InputStream in,
            Path path,
            OutputIndex combined,
            OutputIndex.Stream stream,
            SecretMask mask,
            OutputCapture.Quota quota,
            Consumer<String> failed) {
        this.in = in;
        this.path = path;
        this.combined = combined;
        this.stream = stream;
        this.mask = mask;
        this.quota = quota;
        this.failed = failed;
    }

    /** A stream that wrote nothing has no file and nothing to lose. */
    @Override
    public void run() {
        byte[] buffer = new byte[BUFFER];
        try (in) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (mask.active()) {
                    byte[] masked = mask.apply(buffer, n);
                    write(masked, quota.take(masked.length));
                } else {
                    write(buffer, quota.take(n));
                }
            }
            byte[] rest = mask.finish();
            write(rest, quota.take(rest.length));
        } catch (IOException e) {
            fail("cannot read its output: " + e.getMessage());
        } finally {
            close();
        }
    }

    /**
     * Writes {@code length} bytes, opening the file first if this is the first write. What a write
     * that failed part-way put in the file is counted all the same: the index must match the file.
     */
    private void write(byte[] bytes, int length) {
        if (!writing || length == 0) {
            return;
        }
        try {
            if (file == null) {
                combined.beforeNewStream();
                file = FileChannel.open(
                        path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            }
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, length);
            IOException failure = null;
            try {
                while (b.hasRemaining()) {
                    file.write(b);
                }
            } catch (IOException e) {
                failure = e;
            }
            combined.append(stream, b.position());
            if (failure != null) {
                throw failure;
            }
        } catch (IOException e) {
            writing = false;
            fail("cannot write its output: " + e.getMessage());
        }
    }

    private void close() {
        if (file == null) {
            return;
        }
        try (FileChannel f = file) {
            f.force(true);
        } catch (IOException e) {
            fail("cannot write its output: " + e.getMessage());
        }
    }

    private void fail(String why) {
        log.error("execution: {} of {}: {}", stream.name().toLowerCase(java.util.Locale.ROOT), path.getParent(), why);
        failed.accept(why);
    }
}
