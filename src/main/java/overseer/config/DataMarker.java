package overseer.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file that marks a server's data directory, so that reading a plain directory (a source,
 * {@code overseer run}, {@code overseer validate}) leaves the data out when it lies inside: the
 * default {@code ./overseer-data} of {@code cd myconfig && overseer serve --repo .} does.
 */
public final class DataMarker {
    public static final String FILE = ".overseer-data";

    private DataMarker() {}

    /** Marks {@code dataDir}, which exists, as a server's data. */
    public static void mark(Path dataDir) throws IOException {
        Path marker = dataDir.resolve(FILE);
        if (!Files.isRegularFile(marker)) {
            Files.writeString(
                    marker, "Overseer's data directory: configuration read from a directory leaves it out.\n");
        }
    }

    /** Whether {@code dir} is a server's data directory. */
    static boolean marks(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }
}
