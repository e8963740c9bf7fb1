package overseer.config;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The checkout of one revision on disk, which executions of that revision run in. The active
 * revision's checkout is complete before it is applied; one written again for an older revision
 * (see {@link ConfigSync#hold}) may still be in progress, and whoever needs the files waits for
 * {@link #await()}.
 */
public final class Checkout {
    private final String revision;
    private final CompletableFuture<Path> written;

    Checkout(String revision, CompletableFuture<Path> written) {
        this.revision = revision;
        this.written = written;
    }

    static Checkout ready(String revision, Path path) {
        return new Checkout(revision, CompletableFuture.completedFuture(path));
    }

    public String revision() {
        return revision;
    }

    /** The directory, once all its files are written. */
    public Path await() throws SyncException, InterruptedException {
        try {
            return written.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SyncException s
                    ? s
                    : new SyncException("checkout of " + revision + " failed: " + e.getCause());
        }
    }
}
