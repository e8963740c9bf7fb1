package overseer.event;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** The job-side helpers of lib-scripts/, shipped inside the jar and installed where jobs find them. */
public final class LibraryScripts {
    static final List<String> NAMES = List.of("event");

    private LibraryScripts() {}

    /** Writes each helper into {@code dir} (created if needed), executable, replacing older copies whole. */
    public static void install(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : NAMES) {
            Path target = dir.resolve(name);
            Path temporary = dir.resolve("." + name + ".new");
            try (InputStream in = LibraryScripts.class.getResourceAsStream("/lib-scripts/" + name)) {
                if (in == null) {
                    throw new IOException("the helper lib-scripts/" + name + " is missing from this build");
                }
                Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
