package overseer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import overseer.execution.JobUser;

/**
 * With {@code --job-user}, what of the data directory jobs may reach: they pass through it to
 * their checkout and to the helpers in {@code lib/}, and write to the event pipe; the database,
 * the Git copy and every execution's output stay the server's alone.
 */
final class DataPermissions {
    private DataPermissions() {}

    static void forJobUser(Path data, Path eventPipe, JobUser user) throws IOException {
        chmod(data, "rwx--x--x");
        for (String privateDir : List.of("executions", "git")) {
            Path dir = data.resolve(privateDir);
            if (Files.isDirectory(dir)) {
                chmod(dir, "rwx------");
            }
        }
        try (var files = Files.list(data)) {
            for (Path f : files.toList()) {
                if (overseer.store.Stores.isStoreFile(f.getFileName().toString())) {
                    chmod(f, "rw-------");
                }
            }
        }
        Path checkouts = data.resolve("checkouts");
        if (Files.isDirectory(checkouts)) {
            chmod(checkouts, "rwx--x--x");
        }
        chmod(eventPipe.getParent(), "rwx--x--x");
        GroupPrincipal group = data.getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByGroupName(Integer.toString(user.gid()));
        Files.getFileAttributeView(eventPipe, PosixFileAttributeView.class).setGroup(group);
        // Read and write: the helper opens it read-write, so that it never waits for a reader.
        chmod(eventPipe, "rw-rw----");
    }

    private static void chmod(Path path, String mode) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
    }
}
