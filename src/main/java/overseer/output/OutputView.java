package overseer.output;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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

    /**
     * The interleaving, read through the index as a stream of runs with bounded memory. It
     * remembers where the last read ended, so a client that follows the output reads each part of
     * the index once; the stream files are each opened once per read.
     */
    final class Combined implements OutputView {
        private final Path dir;
        /** The first run a later read may need: its record in the index, its start in the output. */
        private long cursorRecord;

        private long cursorStart;
        /** Where each stream's file stands at that run. */
        private final long[] cursorOffsets = new long[2];

        Combined(Path dir) {
            this.dir = dir;
        }

        @Override
        public synchronized long size() throws IOException {
            long[] end = {cursorStart};
            scan(-1, (stream, offset, start, length) -> end[0] = start + length);
            return end[0];
        }

        @Override
        public synchronized void copy(long from, long to, OutputStream out) throws IOException {
            if (from >= to) {
                return;
            }
            if (from < cursorStart) {
                cursorRecord = 0;
                cursorStart = 0;
                cursorOffsets[0] = 0;
                cursorOffsets[1] = 0;
            }
            ReadAhead[] files = new ReadAhead[2];
            try {
                scan(from, (stream, offset, start, length) -> {
                    long end = start + length;
                    if (end <= from || start >= to) {
                        return;
                    }
                    long skip = Math.max(0, from - start);
                    long take = Math.min(end, to) - start - skip;
                    int i = stream.ordinal();
                    if (files[i] == null) {
                        files[i] = new ReadAhead(FileChannel.open(
                                dir.resolve(stream == OutputIndex.Stream.STDOUT ? "stdout" : "stderr"),
                                StandardOpenOption.READ));
                    }
                    files[i].copy(offset + skip, take, out);
                });
            } finally {
                for (ReadAhead f : files) {
                    if (f != null) {
                        f.file.close();
                    }
                }
            }
        }

        /**
         * One stream's file read in 64 KiB blocks: its runs come in file order, so a block serves
         * many short runs (a job that switches streams every line) with one read.
         */
        private static final class ReadAhead {
            private final FileChannel file;
            private final ByteBuffer block = ByteBuffer.allocate(64 * 1024);
            private long blockStart = -1;

            ReadAhead(FileChannel file) {
                this.file = file;
            }

            void copy(long position, long length, OutputStream out) throws IOException {
                long end = position + length;
                while (position < end) {
                    if (blockStart < 0 || position < blockStart || position >= blockStart + block.limit()) {
                        block.clear();
                        int n = file.read(block, position);
                        if (n <= 0) {
                            throw new IOException("the output is shorter than its index says");
                        }
                        block.flip();
                        blockStart = position;
                    }
                    int at = (int) (position - blockStart);
                    int n = (int) Math.min(block.limit() - at, end - position);
                    out.write(block.array(), at, n);
                    position += n;
                }
            }
        }

        @FunctionalInterface
        private interface RunVisitor {
            void visit(OutputIndex.Stream stream, long offset, long start, long length) throws IOException;
        }

        /**
         * Visits the runs from the cursor on, and moves the cursor up to the last complete run that
         * ends at or before {@code keepFrom}. The last record may still grow, so it is never passed.
         */
        private void scan(long keepFrom, RunVisitor visitor) throws IOException {
            try (FileChannel index = FileChannel.open(dir.resolve(OutputIndex.FILE), StandardOpenOption.READ);
                    DataInputStream records = new DataInputStream(new BufferedInputStream(
                            Channels.newInputStream(index.position(cursorRecord)), 64 * 1024))) {
                long available = (index.size() - cursorRecord) / OutputIndex.RECORD;
                long record = cursorRecord;
                long start = cursorStart;
                long[] offsets = cursorOffsets.clone();
                for (long i = 0; i < available; i++) {
                    OutputIndex.Stream stream = OutputIndex.Stream.values()[records.readByte()];
                    long length = records.readLong();
                    visitor.visit(stream, offsets[stream.ordinal()], start, length);
                    boolean last = i == available - 1;
                    start += length;
                    offsets[stream.ordinal()] += length;
                    record += OutputIndex.RECORD;
                    if (!last && start <= keepFrom) {
                        cursorRecord = record;
                        cursorStart = start;
                        cursorOffsets[0] = offsets[0];
                        cursorOffsets[1] = offsets[1];
                    }
                }
            } catch (NoSuchFileException e) {
                // No index: at most one stream has bytes, and it is the output (OutputIndex).
                for (OutputIndex.Stream stream : OutputIndex.Stream.values()) {
                    long size = new File(dir.resolve(stream == OutputIndex.Stream.STDOUT ? "stdout" : "stderr")).size();
                    if (size > 0) {
                        visitor.visit(stream, 0, 0, size);
                        return;
                    }
                }
            }
        }
    }
}
