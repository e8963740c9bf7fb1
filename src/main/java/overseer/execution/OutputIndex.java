package overseer.execution;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The interleaving of stdout and stderr, kept as runs instead of a third copy of the bytes:
 * {@code output.index} holds records of (stream, length), a run per change of stream. Writing
 * every byte twice halved the capture rate; the combined output is read through {@link #runs}.
 * A record is written after the bytes it counts, so every byte it names is on disk.
 */
final class OutputIndex implements AutoCloseable {
    static final String FILE = "output.index";
    private static final int RECORD = 9;

    /** A run of bytes of one stream: where it starts in that stream's file, and its length. */
    record Run(Stream stream, long offset, long length) {}

    enum Stream {
        STDOUT,
        STDERR
    }

    private final FileChannel channel;
    private final ByteBuffer record = ByteBuffer.allocate(RECORD);
    private Stream last;
    private long lastLength;
    private long lastPosition = -RECORD;

    OutputIndex(Path dir) throws IOException {
        // Not APPEND: on Linux a positional write to an O_APPEND file appends, and runs grow in place.
        channel = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** Counts {@code length} more bytes of {@code stream}, already written to its file. */
    synchronized void append(Stream stream, long length) throws IOException {
        if (length == 0) {
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

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    /** The runs recorded in {@code dir} so far; none when there is no index yet. */
    static List<Run> runs(Path dir) throws IOException {
        ByteBuffer bytes;
        try (FileChannel in = FileChannel.open(dir.resolve(FILE), StandardOpenOption.READ)) {
            bytes = ByteBuffer.allocate((int) Math.min(in.size(), Integer.MAX_VALUE));
            while (bytes.hasRemaining() && in.read(bytes) > 0) {
                // Read it whole.
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        bytes.flip();
        List<Run> runs = new ArrayList<>();
        long[] offsets = new long[2];
        while (bytes.remaining() >= RECORD) {
            Stream stream = Stream.values()[bytes.get()];
            long length = bytes.getLong();
            runs.add(new Run(stream, offsets[stream.ordinal()], length));
            offsets[stream.ordinal()] += length;
        }
        return runs;
    }
}
