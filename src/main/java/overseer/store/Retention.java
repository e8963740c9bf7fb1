package overseer.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.FileTrees;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;

/**
 * Removes old executions in the background: their rows, events, deliveries and output files.
 * Kept always: anything unfinished, the latest execution of each job, anything younger than a day
 * (idempotency keys and repeats point at it), anything with a delivery still to send or a retry
 * still to run. Beyond that, executions older than {@code days} or past the newest {@code perJob}
 * of their job go, in batches.
 *
 * <p>A batch goes in three steps that a crash can interrupt anywhere without leaving an output
 * folder nobody removes: the candidates are written to a journal file (synced), the store removes
 * those still removable in one transaction that checks again (a delivery sent again or a retry
 * queued meanwhile keeps its execution), then the folders of those removed are deleted and the
 * journal with them. A journal left by a crash is finished first: the folder of every listed
 * execution that the store no longer has is deleted. A {@link BackgroundService}: a failing store
 * is retried by the supervisor with its backoff.
 */
public final class Retention implements BackgroundService, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Retention.class);
    private static final Duration YOUNGEST = Duration.ofHours(24);
    private static final Duration EVERY = Duration.ofHours(1);
    private static final int BATCH = 500;
    /** In the executions directory; no job is named with a leading dot. */
    static final String JOURNAL = ".retention-journal";

    private final Store store;
    private final Path executions;
    private final Duration keep;
    private final int perJob;
    private final Clock clock;
    private volatile Supervisor.Handle handle;

    public Retention(Store store, Path executions, Duration keep, int perJob, Clock clock) {
        this.store = store;
        this.executions = executions;
        this.keep = keep;
        this.perJob = perJob;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "retention";
    }

    /** Prunes now and then every hour, under {@code supervisor}. */
    public void start(Supervisor supervisor) {
        handle = supervisor.start(this);
    }

    @Override
    public Duration runOnce() throws IOException {
        prune();
        return EVERY;
    }

    /** Removes what may go now; returns how many executions went. */
    public int prune() throws IOException {
        finishJournal();
        Instant now = clock.instant();
        Instant keepAfter = now.minus(keep);
        Instant youngest = now.minus(YOUNGEST);
        Path journal = executions.resolve(JOURNAL);
        int removed = 0;
        while (true) {
            List<Store.Prunable> batch = store.prunable(keepAfter, perJob, youngest, BATCH);
            if (batch.isEmpty()) {
                break;
            }
            StringBuilder lines = new StringBuilder();
            batch.forEach(
                    p -> lines.append(p.job()).append(' ').append(p.number()).append('\n'));
            Files.writeString(
                    journal,
                    lines,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.SYNC);
            List<Store.Prunable> gone = store.remove(batch, keepAfter, perJob, youngest);
            for (Store.Prunable p : gone) {
                delete(folder(p.job(), p.number()));
            }
            Files.delete(journal);
            removed += gone.size();
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

    /** A journal a crash left: the folders of the executions the store no longer has go now. */
    private void finishJournal() throws IOException {
        Path journal = executions.resolve(JOURNAL);
        if (!Files.isRegularFile(journal, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        for (String line : Files.readAllLines(journal)) {
            String[] parts = line.split(" ");
            if (parts.length != 2 || !parts[1].matches("[0-9]{1,18}")) {
                continue;
            }
            long number = Long.parseLong(parts[1]);
            if (store.execution(parts[0], number).isEmpty()) {
                delete(folder(parts[0], number));
            }
        }
        Files.delete(journal);
    }

    private Path folder(String job, long number) {
        Path dir = executions.resolve(job).resolve(Long.toString(number)).normalize();
        if (!dir.startsWith(executions) || dir.getNameCount() != executions.getNameCount() + 2) {
            throw new IllegalArgumentException("not an execution's folder: " + job + "/" + number);
        }
        return dir;
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
        Supervisor.Handle h = handle;
        if (h != null) {
            h.close();
        }
    }
}
