package overseer.config;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.job.Problem;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;

/**
 * Keeps the active {@link Snapshot} in step with the source: on start, every poll interval, and on
 * request. A revision becomes active only if every file in it validates; otherwise, and whenever the
 * source cannot be read, the previous snapshot keeps serving and the reason shows in
 * {@link #status()}.
 */
public final class ConfigSync implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigSync.class);

    /** What to sync from: the source and the part of it that holds the jobs. */
    public record Settings(
            Source source,
            Optional<String> branch,
            Optional<String> subdir,
            Optional<String> token,
            Optional<Path> sshKey,
            Optional<Path> knownHosts) {}

    private final Source source;
    private final Revisions revisions;
    private final Checkouts checkouts;
    private final RepositoryLoader loader;
    private final String displayPrefix;
    private final Path activeFile;
    /** What the active-revision file must name besides the revision for a restore to apply. */
    private final String identity;

    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile ConfigStatus status;
    /** When the latest sync, by anyone, ended ({@link System#nanoTime()}): the poller counts from it. */
    private volatile long lastSyncNanos = System.nanoTime();
    /** A push asked for a sync that the poller has not yet begun. */
    private final AtomicBoolean requested = new AtomicBoolean();

    private volatile Optional<Supervisor.Handle> poller = Optional.empty();
    private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<ConfigStatus>> synced = new CopyOnWriteArrayList<>();

    public ConfigSync(Settings settings, Path dataDir, RepositoryLoader loader, Clock clock)
            throws IOException, SyncException {
        this.source = settings.source();
        this.loader = loader;
        this.clock = clock;
        this.displayPrefix = settings.subdir().orElse("");
        this.checkouts = new Checkouts(dataDir.resolve("checkouts"));
        this.activeFile = dataDir.resolve("active-revision");
        this.revisions = switch (source) {
            case Source.GitRemote r ->
                new GitRevisions(
                        r.url(),
                        settings.branch(),
                        settings.subdir(),
                        new GitRevisions.GitAccess(settings.token(), settings.sshKey(), settings.knownHosts()),
                        dataDir.resolve("git"));
            case Source.LocalRepo r ->
                new GitRevisions(
                        r.path().toString(),
                        settings.branch(),
                        settings.subdir(),
                        new GitRevisions.GitAccess(Optional.empty(), Optional.empty(), Optional.empty()),
                        dataDir.resolve("git"));
            case Source.PlainDirectory d ->
                new DirectoryRevisions(settings.subdir().map(d.path()::resolve).orElse(d.path()));
        };
        this.status = ConfigStatus.pending(source.describe());
        this.identity = source.describe() + " branch=" + settings.branch().orElse("HEAD") + " subdir=" + displayPrefix;
    }

    public ConfigStatus status() {
        return status;
    }

    public Optional<Snapshot> active() {
        return status.active();
    }

    /**
     * Serves the revision that was active before a restart, from local data only, so that the server
     * has its jobs even while the source is unreachable.
     */
    public void restore() {
        if (!Files.isRegularFile(activeFile)) {
            return;
        }
        lock.lock();
        try {
            String[] saved = Files.readString(activeFile).split("\n", 2);
            if (saved.length < 2 || !saved[1].strip().equals(identity)) {
                log.info(
                        "config: not restoring the previous revision: it came from another repository, branch or sub-directory");
                return;
            }
            String revision = saved[0].strip();
            Candidate candidate = switch (revisions) {
                case GitRevisions git -> fromGit(git, revision);
                case DirectoryRevisions dir -> {
                    Path existing =
                            checkouts.existing(revision).orElseThrow(() -> new SyncException("its checkout is gone"));
                    yield new Candidate(
                            revision,
                            loader.load(FileTree.of(existing), displayPrefix),
                            Optional.of(Checkout.ready(revision, existing)));
                }
            };
            if (candidate.loaded().valid()) {
                status = status.restored(snapshot(candidate, clock.instant()));
                log.info(
                        "config: restored {} ({} jobs) from the data directory",
                        shortId(revision),
                        candidate.loaded().jobs().size());
            }
        } catch (IOException | SyncException e) {
            log.warn("config: cannot restore the previous revision: {}", e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    /** Fetches and, if there is a new valid revision, applies it. One sync runs at a time. */
    public ConfigStatus syncNow() {
        ConfigStatus after;
        Optional<Snapshot> before;
        lock.lock();
        try {
            before = status.active();
            after = sync();
            lastSyncNanos = System.nanoTime();
        } finally {
            lock.unlock();
        }
        for (Consumer<ConfigStatus> listener : synced) {
            listener.accept(after);
        }
        Optional<Snapshot> now = after.active();
        if (now.isPresent() && !now.map(Snapshot::revision).equals(before.map(Snapshot::revision))) {
            for (Consumer<Snapshot> listener : listeners) {
                listener.accept(now.get());
            }
        }
        return after;
    }

    /** Calls {@code listener} with each snapshot that becomes active from now on. */
    public void onApplied(Consumer<Snapshot> listener) {
        listeners.add(listener);
    }

    /** Calls {@code listener} with the status after every sync, whatever its outcome. */
    public void onSynced(Consumer<ConfigStatus> listener) {
        synced.add(listener);
    }

    /** Asks the poller for a sync soon, without waiting for it (push webhooks). */
    public void requestSync() {
        requested.set(true);
        poller.ifPresent(Supervisor.Handle::wake);
    }

    /**
     * Syncs {@code interval} after the latest sync (and at once on {@link #requestSync()}) as a
     * service of {@code supervisor}, until closed. A round that throws anything is the supervisor's
     * to log and retry with backoff.
     */
    public void startPolling(Supervisor supervisor, Duration interval) {
        poller = Optional.of(supervisor.start(new Poller(interval)));
    }

    private final class Poller implements BackgroundService {
        private final Duration interval;
        /** The previous round threw: this one syncs whenever the last sync was. */
        private boolean retrying;

        Poller(Duration interval) {
            this.interval = interval;
        }

        @Override
        public String name() {
            return "config-poller";
        }

        @Override
        public Duration runOnce() {
            long since = System.nanoTime() - lastSyncNanos;
            if (!requested.getAndSet(false) && !retrying && since < interval.toNanos()) {
                // Someone synced meanwhile (the start, GET /config): the interval counts from then.
                return interval.minusNanos(since);
            }
            retrying = true;
            syncNow();
            retrying = false;
            return interval;
        }
    }

    private ConfigStatus sync() {
        Instant now = clock.instant();
        ConfigStatus before = status;
        String latest;
        long started = System.nanoTime();
        try {
            latest = revisions.latest();
        } catch (SyncException e) {
            return status = failed(before, now, "sync failed", e.getMessage());
        }
        if (before.active().map(Snapshot::revision).equals(Optional.of(latest))) {
            return status = before.unchanged(now);
        }
        if (before.rejectedRevision().equals(Optional.of(latest))) {
            return status = before.stillInvalid(now);
        }
        try {
            return status = apply(latest, now, before, started);
        } catch (SyncException | IOException e) {
            return status = failed(before, now, "cannot apply " + shortId(latest), e.getMessage());
        }
    }

    /** The previous snapshot keeps serving; a failure is logged once, not at every poll it repeats. */
    private static ConfigStatus failed(ConfigStatus before, Instant now, String what, String error) {
        if (before.outcome() != ConfigStatus.Outcome.FAILED || !before.error().equals(Optional.of(error))) {
            log.warn(
                    "config: {}, keeping {}: {}",
                    what,
                    before.active().map(s -> shortId(s.revision())).orElse("no jobs"),
                    error);
        }
        return before.failed(now, error);
    }

    /**
     * A revision read and validated; its checkout is only asked for once it is valid, and is
     * complete on disk before the revision can become active.
     */
    private record Candidate(String revision, RepositoryLoader.Loaded loaded, Optional<Checkout> checkout) {}

    /**
     * Validation proves the tree can be checked out, but the disk can still refuse (full, a file in
     * the way): the checkout is written before the revision is applied, so that a failure keeps
     * the previous revision, and its checkout, in force instead of failing every job.
     */
    private Candidate fromGit(GitRevisions git, String revision) throws SyncException, IOException {
        RepositoryLoader.Loaded loaded = loader.load(git.tree(revision), displayPrefix);
        if (!loaded.valid()) {
            return new Candidate(revision, loaded, Optional.empty());
        }
        Checkout checkout = checkouts.write(revision, target -> git.materialize(revision, target));
        try {
            checkout.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SyncException("interrupted while writing the checkout of " + shortId(revision));
        }
        return new Candidate(revision, loaded, Optional.of(checkout));
    }

    /** A plain directory can change at any time, so it is copied first and the copy validated. */
    private Candidate fromDirectory(DirectoryRevisions dir, String latest) throws SyncException, IOException {
        Path copy;
        try {
            copy = checkouts
                    .write(latest, target -> dir.materialize(latest, target))
                    .await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SyncException("interrupted while copying the directory");
        }
        String revision = copy.getFileName().toString();
        return new Candidate(
                revision, loader.load(FileTree.of(copy), displayPrefix), Optional.of(Checkout.ready(revision, copy)));
    }

    private Snapshot snapshot(Candidate candidate, Instant now) {
        return new Snapshot(
                candidate.revision(),
                candidate.checkout().orElseThrow(),
                candidate.loaded().jobs(),
                candidate.loaded().settings(),
                now);
    }

    private ConfigStatus apply(String latest, Instant now, ConfigStatus before, long started)
            throws SyncException, IOException {
        long fetched = System.nanoTime();
        Candidate candidate = switch (revisions) {
            case GitRevisions git -> fromGit(git, latest);
            case DirectoryRevisions dir -> fromDirectory(dir, latest);
        };
        String timing = "fetch %d ms, validation %d ms"
                .formatted((fetched - started) / 1_000_000, (System.nanoTime() - fetched) / 1_000_000);
        String revision = candidate.revision();
        RepositoryLoader.Loaded loaded = candidate.loaded();
        if (!loaded.valid()) {
            log.warn(
                    "config: {} rejected with {} problem(s); keeping {}",
                    shortId(revision),
                    loaded.problems().size(),
                    before.active().map(s -> shortId(s.revision())).orElse("no jobs"));
            for (Problem p : loaded.problems()) {
                log.warn("config: {}", p);
            }
            checkouts.prune(before.active().map(s -> Set.of(s.revision())).orElse(Set.of()));
            return before.rejected(now, revision, loaded.problems());
        }
        Path temp = activeFile.resolveSibling(activeFile.getFileName() + ".tmp");
        Files.writeString(temp, revision + "\n" + identity + "\n");
        try (FileChannel written = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            written.force(true);
        }
        Files.move(temp, activeFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        checkouts.prune(Set.of(revision));
        log.info(
                "config: applied {} ({} jobs; {})",
                shortId(revision),
                loaded.jobs().size(),
                timing);
        return before.applied(now, snapshot(candidate, now));
    }

    static String shortId(String revision) {
        return revision.length() > 10 ? revision.substring(0, 10) : revision;
    }

    /**
     * Keeps the checkout of {@code revision} on disk until the lease is closed, writing it again
     * from the Git objects if it was already pruned. Executions hold the checkout of their commit
     * from trigger to end, so a sync never removes the files a job runs in.
     */
    /**
     * Whether this server can write the checkout of {@code revision}: a commit its local copy
     * holds, or the plain directory's snapshot that is active.
     */
    public boolean has(String revision) {
        Optional<Snapshot> current = active();
        if (current.isPresent() && current.get().revision().equals(revision)) {
            return true;
        }
        return switch (revisions) {
            case GitRevisions git -> git.has(revision);
            case DirectoryRevisions dir -> false;
        };
    }

    public CheckoutLease hold(String revision) {
        checkouts.hold(revision);
        Optional<Snapshot> current = active();
        Checkout checkout = current.isPresent() && current.get().revision().equals(revision)
                ? current.get().checkout()
                : checkouts.write(revision, target -> switch (revisions) {
                    case GitRevisions git -> git.materialize(revision, target);
                    case DirectoryRevisions dir ->
                        throw new SyncException(
                                "the directory snapshot " + shortId(revision) + " is no longer available");
                });
        return new CheckoutLease(checkout, () -> checkouts.release(revision));
    }

    @Override
    public void close() {
        poller.ifPresent(Supervisor.Handle::close);
        lock.lock();
        try {
            checkouts.close();
            revisions.close();
        } finally {
            lock.unlock();
        }
    }
}
