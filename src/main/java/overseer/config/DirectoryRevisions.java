package overseer.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revisions of a plain directory: the id is a SHA-256 over every path, kind, mode and content.
 * A server's data directory inside it ({@link DataMarker}) is not part of it.
 * File hashes are cached by size and modification time so that a poll that finds no change reads
 * only metadata.
 */
final class DirectoryRevisions implements Revisions {
    private static final Logger log = LoggerFactory.getLogger(DirectoryRevisions.class);

    private record Cached(long size, long modified, String hash) {}

    private record Entry(Path relative, Path absolute, BasicFileAttributes attrs) {}

    private final Path root;
    private final Map<Path, Cached> cache = new ConcurrentHashMap<>();
    /** Data directories inside the source that were left out (and logged). */
    private final Set<Path> skipped = ConcurrentHashMap.newKeySet();

    DirectoryRevisions(Path root) {
        this.root = root;
    }

    @Override
    public String latest() throws SyncException {
        return hash(entries(root), true);
    }

    @Override
    public String materialize(String id, Path target) throws SyncException {
        List<Entry> entries = entries(root);
        try {
            for (Entry e : entries) {
                Path to = target.resolve(e.relative().toString());
                Files.createDirectories(to.getParent());
                if (e.attrs().isSymbolicLink()) {
                    Files.createSymbolicLink(to, Files.readSymbolicLink(e.absolute()));
                } else if (e.attrs().isOther()) {
                    // A FIFO, socket or device: copied as a named pipe, which validation reports
                    // ("not a regular file") instead of the file going missing silently.
                    overseer.process.Fifos.create(to);
                } else {
                    Files.copy(e.absolute(), to, StandardCopyOption.COPY_ATTRIBUTES);
                    Files.setPosixFilePermissions(
                            to,
                            PosixFilePermissions.fromString(
                                    Files.isExecutable(e.absolute()) ? "r-xr-xr-x" : "r--r--r--"));
                }
            }
        } catch (IOException e) {
            throw new SyncException("cannot copy " + root + ": " + e.getMessage());
        }
        // What was copied is what counts: the directory may have changed since latest().
        return hash(entries(target), false);
    }

    private List<Entry> entries(Path dir) throws SyncException {
        if (!Files.isDirectory(dir)) {
            throw new SyncException("directory " + dir + " does not exist");
        }
        List<Entry> entries = new ArrayList<>();
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    if (d.getFileName().toString().equals(".git")) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    if (!d.equals(dir) && DataMarker.marks(d)) {
                        // Once per directory, not at every poll that walks past it again.
                        if (skipped.add(dir.relativize(d))) {
                            log.info(
                                    "config: leaving out {}: it is a server's data directory (it holds {})",
                                    d,
                                    DataMarker.FILE);
                        }
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() || attrs.isSymbolicLink() || attrs.isOther()) {
                        entries.add(new Entry(dir.relativize(file), file, attrs));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new SyncException("cannot read " + dir + ": " + e.getMessage());
        }
        entries.sort((a, b) -> a.relative().toString().compareTo(b.relative().toString()));
        return entries;
    }

    private String hash(List<Entry> entries, boolean cacheable) throws SyncException {
        MessageDigest total = sha256();
        try {
            for (Entry e : entries) {
                total.update(e.relative().toString().getBytes(StandardCharsets.UTF_8));
                total.update((byte) 0);
                if (e.attrs().isSymbolicLink()) {
                    total.update(("link " + Files.readSymbolicLink(e.absolute())).getBytes(StandardCharsets.UTF_8));
                } else if (e.attrs().isOther()) {
                    total.update("other".getBytes(StandardCharsets.UTF_8));
                } else {
                    total.update(
                            (Files.isExecutable(e.absolute()) ? "exec " : "file ").getBytes(StandardCharsets.UTF_8));
                    total.update(fileHash(e, cacheable).getBytes(StandardCharsets.UTF_8));
                }
                total.update((byte) 0);
            }
        } catch (IOException e) {
            throw new SyncException("cannot read " + root + ": " + e.getMessage());
        }
        return HexFormat.of().formatHex(total.digest()).substring(0, 40);
    }

    private String fileHash(Entry e, boolean cacheable) throws IOException {
        long size = e.attrs().size();
        long modified = e.attrs().lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
        Cached cached = cacheable ? cache.get(e.absolute()) : null;
        if (cached != null && cached.size() == size && cached.modified() == modified) {
            return cached.hash();
        }
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(e.absolute(), LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        String hash = HexFormat.of().formatHex(digest.digest());
        if (cacheable) {
            cache.put(e.absolute(), new Cached(size, modified, hash));
        }
        return hash;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public void close() {}
}
