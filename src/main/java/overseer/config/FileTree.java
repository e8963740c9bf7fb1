package overseer.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ConfigTree} over a directory on disk, links not followed; {@code .git} and a server's
 * data directory ({@link DataMarker}) are left out.
 */
public final class FileTree implements ConfigTree {
    private static final Logger log = LoggerFactory.getLogger(FileTree.class);
    private final Path root;
    private final Map<String, Entry> entries;
    /** Why each UNREADABLE entry cannot be read. */
    private final Map<String, String> unreadable;

    private FileTree(Path root, Map<String, Entry> entries, Map<String, String> unreadable) {
        this.root = root;
        this.entries = entries;
        this.unreadable = unreadable;
    }

    public static FileTree of(Path root) throws IOException {
        Path dir = root.toAbsolutePath().normalize();
        Map<String, Entry> entries = new TreeMap<>();
        Map<String, String> unreadable = new TreeMap<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                if (d.equals(dir)) {
                    return FileVisitResult.CONTINUE;
                }
                if (d.getFileName().toString().equals(".git")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (DataMarker.marks(d)) {
                    log.info(
                            "config: leaving out {}: it is a server's data directory (it holds {})",
                            d,
                            DataMarker.FILE);
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String path = dir.relativize(file).toString().replace('\\', '/');
                if (attrs.isSymbolicLink()) {
                    entries.put(path, new Entry(path, Kind.SYMLINK, 0));
                } else if (attrs.isRegularFile()) {
                    entries.put(
                            path,
                            new Entry(path, Files.isExecutable(file) ? Kind.EXECUTABLE : Kind.FILE, attrs.size()));
                } else if (!attrs.isDirectory()) {
                    entries.put(path, new Entry(path, Kind.UNREADABLE, 0));
                    unreadable.put(path, "not a regular file");
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                // Reported where it matters (a job file is a problem), instead of silently missing.
                String path = dir.relativize(file).toString().replace('\\', '/');
                entries.put(path, new Entry(path, Kind.UNREADABLE, 0));
                unreadable.put(path, String.valueOf(e.getMessage()));
                return FileVisitResult.CONTINUE;
            }
        });
        return new FileTree(dir, entries, unreadable);
    }

    @Override
    public Map<String, Entry> entries() {
        return entries;
    }

    @Override
    public byte[] read(Entry entry) throws IOException {
        Path file = root.resolve(entry.path());
        if (entry.kind() == Kind.UNREADABLE) {
            throw new IOException(unreadable.getOrDefault(entry.path(), "not readable"));
        }
        if (entry.kind() == Kind.SYMLINK) {
            return Files.readSymbolicLink(file).toString().getBytes(StandardCharsets.UTF_8);
        }
        return Files.readAllBytes(file);
    }
}
