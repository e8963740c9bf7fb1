package overseer.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.FileTrees;

/**
 * Removes old executions in the background: their rows, events, deliveries and output files.
 * Kept always: anything unfinished, the latest execution of each job, anything younger than a day
 * (idempotency keys and repeats point at it), anything with a delivery still to send or a retry
 * still to run. Beyond that, executions older than {@code days} or past the newest {@code perJob}
 * of their job go, in batches, the database first and then the files.
 */
public final class Retention implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Retention.class);
    private static final Duration YOUNGEST = Duration.ofHours(24);
    private static final Duration EVERY = Duration.ofHours(1);
    private static final int BATCH = 500;

    private final Store store;
    private final Path executions;
    private final Duration keep;
    private final int perJob;
    private final Clock clock;
    private volatile Thread loop;

    public Retention(Store store, Path executions, Duration keep, int perJob, Clock clock) {
        this.store = store;
        this.executions = executions;
        this.keep = keep;
        this.perJob = perJob;
        this.clock = clock;
    }

    /** Prunes now and then every hour, on a virtual thread. */
    public void start() {
        loop = Thread.ofVirtual().name("retention").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    prune();
                    Thread.sleep(EVERY);
                } catch (InterruptedException e) {
                    return;
                } catch (StoreException e) {
                    log.error("retention: {}", e.getMessage());
                }
            }
        });
    }

    /** Removes what may go now; returns how many executions went. */
    public int prune() {
        Instant now = clock.instant();
        int removed = 0;
        while (true) {
            List<Store.Prunable> batch = store.prunable(now.minus(keep), perJob, now.minus(YOUNGEST), BATCH);
            if (batch.isEmpty()) {
                break;
            }
            store.remove(batch);
            for (Store.Prunable p : batch) {
                delete(executions.resolve(p.job()).resolve(Long.toString(p.number())));
            }
            removed += batch.size();
            if (batch.size() < BATCH) {
                break;
            }
        }
        if (removed > 0) {
            store.reclaim();
            log.info(
                    "retention: removed {} execution(s) older than {} days or past the newest {} of their job",
                    removed,
                    keep.toDays(),
                    perJob);
        }
        return removed;
    }

    private static void delete(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            log.warn("retention: cannot remove {}: {}", dir, e.getMessage());
        }
    }

    @Override
    public void close() {
        Thread t = loop;
        if (t != null) {
            t.interrupt();
        }
    }
}
