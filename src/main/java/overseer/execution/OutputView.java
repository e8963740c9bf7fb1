package overseer.execution;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * One captured stream of an execution as the API reads it, while the job may still be writing:
 * {@code stdout} and {@code stderr} are files, {@code output} their interleaving.
 */
public sealed interface OutputView {
    /** Bytes available now. */
    long size() throws IOException;

    /** Copies bytes [from, to) to {@code out}. */
    void copy(long from, long to, OutputStream out) throws IOException;

    static OutputView of(Path dir, String stream) {
        return switch (stream) {
            case "stdout" -> new File(dir.resolve("stdout"));
            case "stderr" -> new File(dir.resolve("stderr"));
            case "output" -> new Combined(dir);
            default -> throw new IllegalArgumentException("no stream " + stream);
        };
    }

    record File(Path path) implements OutputView {
        @Override
        public long size() throws IOException {
            try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
                return in.size();
            } catch (NoSuchFileException e) {
                return 0;
            }
        }

        @Override
        public void copy(long from, long to, OutputStream out) throws IOException {
            if (from >= to) {
                return;
            }
            try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                long position = from;
                while (position < to) {
                    buffer.clear().limit((int) Math.min(buffer.capacity(), to - position));
                    int n = in.read(buffer, position);
                    if (n <= 0) {
                        throw new IOException(path.getFileName() + " is shorter than its index says");
                    }
                    out.write(buffer.array(), 0, n);
                    position += n;
                }
            }
        }
    }

    record Combined(Path dir) implements OutputView {
        @Override
        public long size() throws IOException {
            return OutputIndex.runs(dir).stream()
                    .mapToLong(OutputIndex.Run::length)
                    .sum();
        }

        @Override
        public void copy(long from, long to, OutputStream out) throws IOException {
            List<OutputIndex.Run> runs = OutputIndex.runs(dir);
            long start = 0;
            for (OutputIndex.Run run : runs) {
                long end = start + run.length();
                if (end > from && start < to) {
                    long skip = Math.max(0, from - start);
                    long take = Math.min(end, to) - start - skip;
                    new File(dir.resolve(run.stream() == OutputIndex.Stream.STDOUT ? "stdout" : "stderr"))
                            .copy(run.offset() + skip, run.offset() + skip + take, out);
                }
                start = end;
                if (start >= to) {
                    return;
                }
            }
        }
    }
}
