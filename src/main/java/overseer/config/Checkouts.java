package overseer.config;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The directory of per-revision checkouts. A checkout is written once under a temporary name and
 * renamed into place, so a half-written checkout is never visible. Checkouts are kept while
 * something holds them (the active snapshot, running executions) and removed afterwards.
 */
public final class Checkouts {
    private final Path dir;
    private final Map<String, Integer> holds = new HashMap<>();

    public Checkouts(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /** A writer of a revision's files into an empty directory; returns the revision written. */
    @FunctionalInterface
    interface Writer {
        String write(Path target) throws SyncException;
    }

    Path path(String revision) {
        return dir.resolve(revision);
    }

    /** Writes a checkout unless it exists; returns the revision actually written. */
    String create(String revision, Writer writer) throws SyncException {
        if (Files.isDirectory(path(revision))) {
            return revision;
        }
        Path staging = dir.resolve(".staging-" + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            String written = writer.write(staging);
            if (Files.isDirectory(path(written))) {
                delete(staging);
            } else {
                Files.move(staging, path(written), StandardCopyOption.ATOMIC_MOVE);
            }
            return written;
        } catch (IOException e) {
            delete(staging);
            throw new SyncException("cannot write checkout: " + e.getMessage());
        } catch (SyncException e) {
            delete(staging);
            throw e;
        }
    }

    /** Keeps the checkout of {@code revision} until as many {@link #release} calls. */
    public synchronized void hold(String revision) {
        holds.merge(revision, 1, Integer::sum);
    }

    public synchronized void release(String revision) {
        holds.computeIfPresent(revision, (r, n) -> n == 1 ? null : n - 1);
    }

    /** Removes every checkout that is not held and not in {@code keep}. */
    public void prune(Set<String> keep) {
        try (var entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                boolean held;
                synchronized (this) {
                    held = holds.containsKey(name);
                }
                if (!held && !keep.contains(name)) {
                    delete(p);
                }
            }
        } catch (IOException e) {
            // Left for the next prune; nothing depends on the space being freed now.
        }
    }

    private static void delete(Path path) {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // A later prune retries.
        }
    }
}
