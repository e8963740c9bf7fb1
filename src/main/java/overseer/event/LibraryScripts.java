package overseer.event;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.FileTrees;

/**
 * The job-side helpers of lib-scripts/, shipped inside the jar and installed where jobs find them.
 * The directory is first on every job's PATH, so at every start it is made to hold exactly the
 * helpers again (anything a job planted there is removed, with a warning) and left read-only.
 */
public final class LibraryScripts {
    private static final Logger log = LoggerFactory.getLogger(LibraryScripts.class);
    static final List<String> NAMES = List.of("event");

    private LibraryScripts() {}

    /** Makes {@code dir} hold exactly the helpers, executable, and read-only. */
    public static void install(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Path planted : strangers(dir)) {
            log.warn("lib: removing {} from {}: only Overseer's helpers belong there", planted.getFileName(), dir);
            FileTrees.delete(planted);
        }
        for (String name : NAMES) {
            Path target = dir.resolve(name);
            Path temporary = dir.resolve("." + name + ".new");
            try (InputStream in = LibraryScripts.class.getResourceAsStream("/lib-scripts/" + name)) {
                if (in == null) {
                    throw new IOException("the helper lib-scripts/" + name + " is missing from this build");
                }
                Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("r-xr-xr-x"));
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
    }

    private static List<Path> strangers(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.filter(p -> !NAMES.contains(p.getFileName().toString()) || Files.isSymbolicLink(p))
                    .forEach(found::add);
        }
        return found;
    }
}
