package overseer.output;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a process's stdout and stderr to the files {@code stdout} and {@code stderr}, and
 * records their interleaving in the {@link OutputIndex}, each read written at once (so the files can be read while the job
 * runs) through one fixed 256 KiB buffer per stream: memory stays the same whatever the job prints.
 */
public final class OutputCapture {
    private static final Logger log = LoggerFactory.getLogger(OutputCapture.class);
    private static final int BUFFER = 256 * 1024;

    private final Path dir;
    private final OutputIndex combined;
    private final Thread stdout;
    private final Thread stderr;

    private OutputCapture(Path dir, OutputIndex combined, Thread stdout, Thread stderr) {
        this.dir = dir;
        this.combined = combined;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Creates the (empty) output files of an execution, so they can be read before it starts. */
    public static void prepare(Path dir) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        for (String name : List.of("stdout", "stderr", OutputIndex.FILE)) {
            if (!java.nio.file.Files.exists(dir.resolve(name))) {
                java.nio.file.Files.createFile(dir.resolve(name));
            }
        }
    }

    /**
     * How much output an execution may write in all: past {@code bytes}, the rest is read and
     * dropped, and {@code exceeded} is told, once.
     */
    public static final class Quota {
        private final java.util.concurrent.atomic.AtomicLong left;
        private final Runnable exceeded;
        private final java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();

        public Quota(long bytes, Runnable exceeded) {
            this.left = new java.util.concurrent.atomic.AtomicLong(bytes);
            this.exceeded = exceeded;
        }

        /** How many of {@code n} bytes may still be written. */
        int take(int n) {
            long before = left.getAndAdd(-n);
            if (before >= n) {
                return n;
            }
            if (told.compareAndSet(false, true)) {
                exceeded.run();
            }
            return (int) Math.max(0, before);
        }
    }

    public static OutputCapture start(
            Path dir, InputStream out, InputStream err, List<String> secrets, Quota quota, String name)
            throws IOException {
        OutputIndex combined = null;
        OutputStream stdoutFile = null;
        OutputStream stderrFile;
        try {
            combined = new OutputIndex(dir);
            stdoutFile = new FileOutputStream(dir.resolve("stdout").toFile(), true);
            stderrFile = new FileOutputStream(dir.resolve("stderr").toFile(), true);
        } catch (IOException e) {
            if (stdoutFile != null) {
                stdoutFile.close();
            }
            if (combined != null) {
                combined.close();
            }
            throw e;
        }
        OutputIndex index = combined;
        OutputStream outFile = stdoutFile;
        // Platform threads: a blocking pipe read would hold a virtual thread's carrier for as long
        // as a quiet job runs.
        Thread a = Thread.ofPlatform()
                .daemon()
                .name(name + "-stdout")
                .start(() -> pump(out, outFile, index, OutputIndex.Stream.STDOUT, new SecretMask(secrets), quota));
        Thread b = Thread.ofPlatform()
                .daemon()
                .name(name + "-stderr")
                .start(() -> pump(err, stderrFile, index, OutputIndex.Stream.STDERR, new SecretMask(secrets), quota));
        return new OutputCapture(dir, index, a, b);
    }

    private static void pump(
            InputStream in,
            OutputStream own,
            OutputIndex combined,
            OutputIndex.Stream stream,
            SecretMask mask,
            Quota quota) {
        byte[] buffer = new byte[BUFFER];
        try (in;
                own) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (mask.active()) {
                    byte[] masked = mask.apply(buffer, n);
                    write(own, combined, stream, masked, quota.take(masked.length));
                } else {
                    write(own, combined, stream, buffer, quota.take(n));
                }
            }
            byte[] rest = mask.finish();
            write(own, combined, stream, rest, quota.take(rest.length));
        } catch (IOException e) {
            log.warn("execution: output capture failed: {}", e.getMessage());
        }
    }

    private static void write(
            OutputStream own, OutputIndex combined, OutputIndex.Stream stream, byte[] bytes, int length)
            throws IOException {
        if (length == 0) {
            return;
        }
        own.write(bytes, 0, length);
        combined.append(stream, length);
    }

    /** Waits until both streams reached their end, at most {@code limit}; true when they did. */
    public boolean awaitEnd(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        stdout.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        stderr.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        boolean ended = !stdout.isAlive() && !stderr.isAlive();
        if (ended) {
            try {
                combined.close();
            } catch (IOException e) {
                log.warn("execution: cannot close output: {}", e.getMessage());
            }
        }
        return ended;
    }

    /** Makes the captured output durable: called once, after both streams ended. */
    public void sync() {
        for (String name : List.of("stdout", "stderr", OutputIndex.FILE)) {
            try (FileChannel file = FileChannel.open(dir.resolve(name), StandardOpenOption.WRITE)) {
                file.force(true);
            } catch (IOException e) {
                log.warn("execution: cannot sync {}: {}", dir.resolve(name), e.getMessage());
            }
        }
    }
}
