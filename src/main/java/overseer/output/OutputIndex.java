package overseer.output;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The interleaving of stdout and stderr, kept as runs instead of a third copy of the bytes:
 * {@code output.index} holds records of (stream, length), a run per change of stream. Writing
 * every byte twice halved the capture rate; the combined output is read through {@link
 * OutputView.Combined}.
 * A record is written after the bytes it counts, so every byte it names is on disk.
 *
 * <p>While only one stream has written, the index is kept in memory and has no file: the output
 * is then that stream, and most executions never write the other one (the file and its fsync
 * cost as much as a commit). The file is made, with the first run, before the second stream's
 * own file is created ({@link #beforeNewStream}), so a reader that finds no index file never
 * finds two streams with bytes.
 */
final class OutputIndex implements AutoCloseable {
    static final String FILE = "output.index";
    static final int RECORD = 9;

    enum Stream {
        STDOUT,
        STDERR
    }

    private final Path file;
    private FileChannel channel;
    private final ByteBuffer record = ByteBuffer.allocate(RECORD);
    private Stream last;
    private long lastLength;
    private long lastPosition = -RECORD;
    /** How many streams have made their file. */
    private int streams;

    /** The index of {@code dir}; its file is made when a second stream makes its own. */
    OutputIndex(Path dir) {
        this.file = dir.resolve(FILE);
    }

    /**
     * Called before a stream creates its file. The second such call makes the index file, with
     * the run counted so far, before any byte of the second stream exists.
     */
    synchronized void beforeNewStream() throws IOException {
        streams++;
        if (streams >= 2 && channel == null) {
            // Not APPEND: on Linux a positional write to an O_APPEND file appends, and runs grow in place.
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (last != null) {
                lastPosition = 0;
                record.clear();
                record.put((byte) last.ordinal()).putLong(lastLength).flip();
                channel.write(record, lastPosition);
            }
        }
    }

    /** Counts {@code length} more bytes of {@code stream}, already written to its file. */
    synchronized void append(Stream stream, long length) throws IOException {
        if (length == 0) {
            return;
        }
        if (channel == null) {
            // One stream so far: its file is the whole output.
            last = stream;
            lastLength += length;
            return;
        }
        record.clear();
        if (stream == last) {
            // Grow the last run in place: the index stays as small as the number of switches.
            lastLength += length;
            record.put((byte) stream.ordinal()).putLong(lastLength).flip();
            channel.write(record, lastPosition);
            return;
        }
        last = stream;
        lastLength = length;
        lastPosition = channel.size();
        record.put((byte) stream.ordinal()).putLong(length).flip();
        channel.write(record, lastPosition);
    }

    /** Forces what was recorded to disk; an index with no record has nothing to lose. */
    synchronized void sync() throws IOException {
        if (channel != null) {
            channel.force(false);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }
}
