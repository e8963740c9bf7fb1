package overseer.output;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The combined output read back through its index: whole, in ranges, and as a follower reads it. */
class OutputViewTest {
    @TempDir
    Path dir;

    /** Writes {@code switches} alternating runs the way a capture does; returns the expected interleaving. */
    private String capture(int switches) throws Exception {
        Random random = new Random(42);
        StringBuilder expected = new StringBuilder();
        try (OutputIndex index = new OutputIndex(dir)) {
            for (int i = 0; i < switches; i++) {
                OutputIndex.Stream stream = i % 2 == 0 ? OutputIndex.Stream.STDOUT : OutputIndex.Stream.STDERR;
                // Some runs come in two writes, growing the last record in place.
                for (int part = 0; part < 1 + random.nextInt(2); part++) {
                    String text = (stream == OutputIndex.Stream.STDOUT ? "o" : "e") + i + "." + part + "\n";
                    Path file = dir.resolve(stream == OutputIndex.Stream.STDOUT ? "stdout" : "stderr");
                    if (!Files.exists(file)) {
                        index.beforeNewStream();
                    }
                    Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    index.append(stream, text.length());
                    expected.append(text);
                }
            }
        }
        return expected.toString();
    }

    private static String read(OutputView view, long from, long to) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        view.copy(from, to, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void readsTheInterleavingWholeInRangesAndPieceByPiece() throws Exception {
        String expected = capture(32_000);
        OutputView view = OutputView.of(dir, "output");
        assertThat(view.size()).isEqualTo(expected.length());
        assertThat(read(view, 0, view.size())).isEqualTo(expected);
        // As a follower reads: consecutive pieces through one view.
        StringBuilder pieces = new StringBuilder();
        for (long at = 0; at < expected.length(); at += 997) {
            pieces.append(read(view, at, Math.min(expected.length(), at + 997)));
        }
        assertThat(pieces.toString()).isEqualTo(expected);
        // Ranges out of order, through the same view.
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            int from = random.nextInt(expected.length());
            int to = from + random.nextInt(Math.min(5000, expected.length() - from) + 1);
            assertThat(read(view, from, to)).isEqualTo(expected.substring(from, to));
        }
    }

    @Test
    void oneStreamAloneHasNoIndexFileAndIsTheOutputUntilASecondStreamComes() throws Exception {
        try (OutputIndex index = new OutputIndex(dir)) {
            OutputView view = OutputView.of(dir, "output");
            index.beforeNewStream();
            Files.writeString(dir.resolve("stderr"), "first\n");
            index.append(OutputIndex.Stream.STDERR, 6);
            Files.writeString(dir.resolve("stderr"), "more\n", StandardOpenOption.APPEND);
            index.append(OutputIndex.Stream.STDERR, 5);
            index.sync();
            assertThat(dir.resolve(OutputIndex.FILE)).doesNotExist();
            assertThat(read(view, 0, view.size())).isEqualTo("first\nmore\n");
            // The second stream: the index is made, with the run so far, before its file exists.
            index.beforeNewStream();
            assertThat(dir.resolve(OutputIndex.FILE)).exists();
            assertThat(read(view, 0, view.size())).isEqualTo("first\nmore\n");
            Files.writeString(dir.resolve("stdout"), "out\n");
            index.append(OutputIndex.Stream.STDOUT, 4);
            Files.writeString(dir.resolve("stderr"), "err\n", StandardOpenOption.APPEND);
            index.append(OutputIndex.Stream.STDERR, 4);
            assertThat(read(view, 0, view.size())).isEqualTo("first\nmore\nout\nerr\n");
            assertThat(read(view, 6, 14)).isEqualTo("more\nout");
        }
    }

    @Test
    void aRunThatGrowsAfterItWasReadIsReadOnFromWhereItWas() throws Exception {
        try (OutputIndex index = new OutputIndex(dir)) {
            index.beforeNewStream();
            Files.writeString(dir.resolve("stdout"), "");
            index.beforeNewStream();
            Files.writeString(dir.resolve("stderr"), "");
            OutputView view = OutputView.of(dir, "output");
            Files.writeString(dir.resolve("stdout"), "ab", StandardOpenOption.APPEND);
            index.append(OutputIndex.Stream.STDOUT, 2);
            assertThat(read(view, 0, view.size())).isEqualTo("ab");
            Files.writeString(dir.resolve("stdout"), "cd", StandardOpenOption.APPEND);
            index.append(OutputIndex.Stream.STDOUT, 2);
            assertThat(view.size()).isEqualTo(4);
            assertThat(read(view, 2, 4)).isEqualTo("cd");
            Files.writeString(dir.resolve("stderr"), "E", StandardOpenOption.APPEND);
            index.append(OutputIndex.Stream.STDERR, 1);
            assertThat(read(view, 4, view.size())).isEqualTo("E");
            assertThat(read(view, 0, view.size())).isEqualTo("abcdE");
        }
    }
}
