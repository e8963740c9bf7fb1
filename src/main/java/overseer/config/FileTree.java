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

/** A {@link ConfigTree} over a directory on disk, links not followed; {@code .git} is left out. */
public final class FileTree implements ConfigTree {
    private final Path root;
    private final Map<String, Entry> entries;

    private FileTree(Path root, Map<String, Entry> entries) {
        this.root = root;
        this.entries = entries;
    }

    public static FileTree of(Path root) throws IOException {
        Path dir = root.toAbsolutePath().normalize();
        Map<String, Entry> entries = new TreeMap<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                return !d.equals(dir) && d.getFileName().toString().equals(".git")
                        ? FileVisitResult.SKIP_SUBTREE
                        : FileVisitResult.CONTINUE;
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
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return new FileTree(dir, entries);
    }

    @Override
    public Map<String, Entry> entries() {
        return entries;
    }

    @Override
    public byte[] read(Entry entry) throws IOException {
        Path file = root.resolve(entry.path());
        if (entry.kind() == Kind.SYMLINK) {
            return Files.readSymbolicLink(file).toString().getBytes(StandardCharsets.UTF_8);
        }
        return Files.readAllBytes(file);
    }
}
