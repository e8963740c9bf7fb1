package overseer.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.FileTrees;

/**
 * The directory of per-revision checkouts. A checkout is written once under a temporary name and
 * renamed into place, so a half-written checkout is never visible. Writes and removals run one at
 * a time, in the order asked, on one background thread, so a removal never races a write.
 * Every checkout but the ones asked to be kept is removed on {@link #prune}.
 */
final class Checkouts implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Checkouts.class);
    private static final String STAGING = ".staging-";

    private final Path dir;
    /** Revisions in use by executions, with how many hold each; never pruned. */
    private final java.util.concurrent.ConcurrentHashMap<String, Integer> holds =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("checkouts").factory());

    Checkouts(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        try (var entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                if (p.getFileName().toString().startsWith(STAGING)) {
                    delete(p);
                }
            }
        }
    }

    /** A writer of a revision's files into an empty directory; returns the revision written. */
    @FunctionalInterface
    interface Writer {
        String write(Path target) throws SyncException;
    }

    /** Writes the checkout of {@code revision} unless it exists. */
    Checkout write(String revision, Writer writer) {
        CompletableFuture<Path> written = new CompletableFuture<>();
        worker.execute(() -> {
            try {
                written.complete(path(create(revision, writer)));
            } catch (SyncException | RuntimeException e) {
                // Whoever waits for the checkout reports it, once, with what it was for.
                written.completeExceptionally(e);
            }
        });
        return new Checkout(revision, written);
    }

    void hold(String revision) {
        holds.merge(revision, 1, Integer::sum);
    }

    void release(String revision) {
        holds.computeIfPresent(revision, (r, n) -> n == 1 ? null : n - 1);
    }

    /** Removes every checkout that is not held and not in {@code keep}, after the writes asked for so far. */
    void prune(Set<String> keep) {
        worker.execute(() -> {
            try (var entries = Files.list(dir)) {
                for (Path p : entries.toList()) {
                    String name = p.getFileName().toString();
                    if (!keep.contains(name) && !holds.containsKey(name) && !name.startsWith(STAGING)) {
                        delete(p);
                    }
                }
            } catch (IOException e) {
                // Left for the next prune; nothing depends on the space being freed now.
                log.warn("config: cannot list checkouts to prune: {}", e.getMessage());
            }
        });
    }

    /** The checkout of {@code revision} if it is complete on disk. */
    Optional<Path> existing(String revision) {
        return Files.isDirectory(path(revision)) ? Optional.of(path(revision)) : Optional.empty();
    }

    private Path path(String revision) {
        return dir.resolve(revision);
    }

    private String create(String revision, Writer writer) throws SyncException {
        if (Files.isDirectory(path(revision))) {
            return revision;
        }
        Path staging = dir.resolve(STAGING + UUID.randomUUID());
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

    private static void delete(Path path) {
        try {
            FileTrees.delete(path);
        } catch (IOException e) {
            // A later prune retries.
            log.warn("config: cannot remove checkout {}: {}", path.getFileName(), e.getMessage());
        }
    }

    @Override
    public void close() {
        worker.close();
    }
}
