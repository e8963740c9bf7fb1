package overseer.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.Snapshot;
import overseer.job.JobDefinition;
import overseer.job.ScheduleIds;
import overseer.job.ScheduleSpec;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;
import overseer.store.ScheduleState;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * Fires the schedules of every enabled job of the active configuration (SPEC section 4). Each
 * schedule keeps a cursor in the store: the time up to which its fires have been dealt with. A
 * fire after the cursor and due is triggered (with its time as {@code scheduled_at}) and the
 * cursor moves past it; the store refuses a second execution for the same (job, schedule, fire),
 * so a fire is recorded once across reloads, restarts and servers sharing a database. On the
 * first sync after a start, fires missed while the server was down (within the schedule's
 * {@code misfire_grace}) are caught up as its {@code catchup} says; a schedule that appears or
 * whose job is enabled again starts from now, without the fires it missed meanwhile.
 *
 * <p>A {@link BackgroundService}: all the work (taking a new schedule list, firing) is done in
 * rounds, one at a time on the supervisor's thread, and no lock is held across store I/O. A round
 * whose store call fails throws, and the supervisor runs it again after its backoff; a schedule
 * list that could not be taken stays asked for until a round takes it, while the previous list
 * keeps firing.
 */
public final class Scheduler implements BackgroundService, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    static final int MAX_CATCHUP = 100;
    private static final Duration MAX_SLEEP = Duration.ofMinutes(1);
    /**
     * How stale a stored cursor may get while the server runs. Saving it after every fire would
     * double the writes of a busy scheduler; a stale cursor only makes a restart look at fires
     * that were recorded already, which the store's unique fire key turns into no-ops.
     */
    private static final Duration SAVE_EVERY = Duration.ofSeconds(10);
    /** How long {@link #sync()} waits for the round that takes the new list (it is taken later anyway). */
    private static final Duration SYNC_WAIT = Duration.ofSeconds(10);

    /** One fire of one schedule. */
    public record Fire(String job, String scheduleId, ScheduleSpec schedule, Instant at) {}

    /** What firing needs from the execution engine. */
    public interface Target {
        /**
         * Triggers the runs of several fires, stored together (each queued, or recorded {@code
         * skipped}); returns for each why it was not run, empty when it was. A {@link
         * StoreException} means none was recorded.
         */
        List<Optional<String>> fire(List<Fire> fires);
    }

    /** Fires handed to the target at once: one store transaction each. */
    private static final int BATCH = 1000;

    /** A schedule as the API shows it. */
    public record Status(Optional<Instant> next, Optional<Instant> lastFire) {}

    private record Key(String job, String id) {}

    private static final class Entry {
        final Key key;
        final ScheduleSpec spec;
        final Instant anchor;
        Instant cursor;
        Optional<Instant> lastFire;
        Optional<Instant> next = Optional.empty();
        Instant savedCursor;

        Entry(Key key, ScheduleSpec spec, ScheduleState state) {
            this.key = key;
            this.spec = spec;
            this.anchor = state.anchor();
            this.cursor = state.cursor();
            this.lastFire = state.lastFire();
            this.savedCursor = state.cursor();
        }

        ScheduleState state() {
            return new ScheduleState(anchor, cursor, lastFire);
        }
    }

    private final Supplier<Optional<Snapshot>> active;
    private final Predicate<String> enabled;
    private final Store store;
    private final Target target;
    private final Clock clock;
    private final overseer.metrics.Metrics metrics;
    /**
     * Touched only by the thread running a round: the supervisor's once started, the caller of
     * {@link #tick()} before. Others see {@link #statuses}, published at the end of each round.
     */
    private Map<Key, Entry> entries = new HashMap<>();

    private boolean caughtUp;
    private volatile Map<Key, Status> statuses = Map.of();
    /** Set by {@link #sync()}, cleared by the round that takes the list. */
    private final AtomicBoolean resync = new AtomicBoolean(true);
    /** Callers of {@link #tick()} and {@link #sync()} waiting for the next round to end. */
    private final ConcurrentLinkedQueue<CompletableFuture<Duration>> waiting = new ConcurrentLinkedQueue<>();

    private volatile Supervisor.Handle handle;
    private volatile Thread roundThread;

    public Scheduler(
            Supplier<Optional<Snapshot>> active,
            Predicate<String> enabled,
            Store store,
            Target target,
            Clock clock,
            overseer.metrics.Metrics metrics) {
        this.metrics = metrics;
        this.active = active;
        this.enabled = enabled;
        this.store = store;
        this.target = target;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "scheduler";
    }

    /** Runs the schedules under {@code supervisor} until {@link #close()}. */
    public void start(Supervisor supervisor) {
        handle = supervisor.start(this);
        // The first list (with its catch-up) is taken before the server says it has started.
        sync();
    }

    /**
     * One round: takes the schedule list if one was asked for, then fires what is due; returns
     * how long until the next fire. A list that cannot be read is asked for again (the old one
     * fires meanwhile) and the round throws once it has fired.
     */
    @Override
    public Duration runOnce() {
        List<CompletableFuture<Duration>> callers = new ArrayList<>();
        for (CompletableFuture<Duration> f; (f = waiting.poll()) != null; ) {
            callers.add(f);
        }
        roundThread = Thread.currentThread();
        try {
            StoreException failed = null;
            if (resync.getAndSet(false)) {
                try {
                    take();
                } catch (StoreException e) {
                    resync.set(true);
                    failed = e;
                }
            }
            Duration sleep;
            try {
                sleep = fireDue();
            } catch (StoreException e) {
                if (failed != null) {
                    e.addSuppressed(failed);
                }
                throw e;
            } finally {
                publish();
            }
            if (failed != null) {
                throw failed;
            }
            callers.forEach(f -> f.complete(sleep));
            return sleep;
        } catch (RuntimeException | Error e) {
            callers.forEach(f -> f.completeExceptionally(e));
            throw e;
        } finally {
            roundThread = null;
        }
    }

    /**
     * Asks for the schedules of the active configuration's enabled jobs to be taken: kept ones go
     * on as they were, new ones (and those of jobs enabled again) start from now, removed ones and
     * those of disabled jobs stop at once. The first list taken after a start catches up. Waits a
     * little for the round that takes it, so that an API call that changed the list shows its
     * effect; a round that fails leaves it asked for.
     */
    public void sync() {
        resync.set(true);
        Supervisor.Handle h = handle;
        if (h == null || Thread.currentThread() == roundThread) {
            return;
        }
        CompletableFuture<Duration> done = new CompletableFuture<>();
        waiting.add(done);
        h.wake();
        try {
            done.get(SYNC_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // The round failed or is slow: the list stays asked for, and the supervisor retries.
        }
    }

    /**
     * Runs a round and returns how long until the next fire: once started, a round on the
     * supervisor's thread that begins after this call; before, on the caller's. For tests that
     * move a clock.
     */
    public Duration tick() {
        Supervisor.Handle h = handle;
        if (h == null) {
            return runOnce();
        }
        CompletableFuture<Duration> done = new CompletableFuture<>();
        waiting.add(done);
        h.wake();
        try {
            return done.get(SYNC_WAIT.toMillis() * 3, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no scheduler round ended within " + SYNC_WAIT.multipliedBy(3), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a scheduler round", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void publish() {
        Map<Key, Status> view = new HashMap<>();
        entries.forEach((key, entry) -> view.put(key, new Status(entry.next, entry.lastFire)));
        statuses = Map.copyOf(view);
    }

    /** Takes the schedule list (see {@link #sync()}); the entries change only when it all succeeds. */
    private void take() {
        Optional<Snapshot> snapshot = active.get();
        if (snapshot.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        Map<Key, Entry> next = new HashMap<>();
        for (JobDefinition job : snapshot.get().jobs().values()) {
            String name = job.name().value();
            if (!enabled.test(name)) {
                continue;
            }
            List<String> ids = ScheduleIds.of(job.schedules());
            for (int i = 0; i < ids.size(); i++) {
                Key key = new Key(name, ids.get(i));
                Entry entry = entries.get(key);
                if (entry == null) {
                    entry = load(key, job.schedules().get(i), now);
                }
                next.put(key, entry);
            }
        }
        entries = next;
        caughtUp = true;
    }

    private void save(Entry entry) {
        store.saveScheduleState(entry.key.job(), entry.key.id(), entry.state());
        entry.savedCursor = entry.cursor;
    }

    private Entry load(Key key, ScheduleSpec spec, Instant now) {
        Optional<ScheduleState> stored = store.scheduleState(key.job(), key.id());
        if (stored.isEmpty()) {
            Entry fresh = new Entry(key, spec, new ScheduleState(now, now, Optional.empty()));
            save(fresh);
            // Another node may have saved its anchor first: the stored one is every node's.
            Entry entry = store.scheduleState(key.job(), key.id())
                    .map(s -> new Entry(key, spec, s))
                    .orElse(fresh);
            entry.next = nextAfter(entry, entry.cursor);
            return entry;
        }
        Entry entry = new Entry(key, spec, stored.get());
        if (caughtUp) {
            // Appeared, or its job was enabled again: what it missed meanwhile is not run.
            entry.cursor = later(entry.cursor, now);
            save(entry);
        } else {
            catchUp(entry, now);
        }
        entry.next = nextAfter(entry, entry.cursor);
        return entry;
    }

    /** The fires missed while the server was down, within the grace, as {@code catchup} says. */
    private void catchUp(Entry entry, Instant now) {
        Deque<Instant> missed = missed(entry, now);
        if (!missed.isEmpty()) {
            List<Instant> run = switch (entry.spec.catchup()) {
                case NONE -> List.of();
                case LAST -> List.of(missed.getLast());
                case ALL -> List.copyOf(missed);
            };
            log.info(
                    "schedules: {} of {} missed {} fire(s) while stopped; catchup {} runs {}",
                    entry.key.id(),
                    entry.key.job(),
                    missed.size(),
                    entry.spec.catchup().name().toLowerCase(),
                    run.size());
            fire(
                    run.stream()
                            .map(at -> new Fire(entry.key.job(), entry.key.id(), entry.spec, at))
                            .toList(),
                    java.util.Collections.nCopies(run.size(), entry));
        }
        entry.cursor = later(entry.cursor, now);
        save(entry);
    }

    /**
     * Fires every due schedule; returns how long to sleep until the next fire. The fires of one
     * moment are stored together, in batches of {@value #BATCH}; a store failure throws, and the
     * same fires are due again in the next round.
     */
    private Duration fireDue() {
        Instant now = clock.instant();
        List<Entry> due = new ArrayList<>();
        List<Fire> fires = new ArrayList<>();
        List<Entry> firing = new ArrayList<>();
        for (Entry entry : entries.values()) {
            if (entry.next.isPresent() && !entry.next.get().isAfter(now)) {
                due.add(entry);
                for (Instant at : missed(entry, now)) {
                    fires.add(new Fire(entry.key.job(), entry.key.id(), entry.spec, at));
                    firing.add(entry);
                }
            }
        }
        Instant earliest = now.plus(MAX_SLEEP);
        fire(fires, firing);
        for (Entry entry : due) {
            entry.cursor = later(entry.cursor, now);
            entry.next = nextAfter(entry, entry.cursor);
        }
        for (Entry entry : due) {
            if (!entry.savedCursor.plus(SAVE_EVERY).isAfter(now)) {
                save(entry);
            }
        }
        for (Entry entry : entries.values()) {
            if (entry.next.isPresent()) {
                earliest = earlier(earliest, entry.next.get());
            }
        }
        return Duration.between(clock.instant(), earliest);
    }

    /** Hands fires to the target in batches; {@code entries.get(i)} is the schedule of {@code fires.get(i)}. */
    private void fire(List<Fire> fires, List<Entry> entries) {
        for (int from = 0; from < fires.size(); from += BATCH) {
            List<Fire> batch = fires.subList(from, Math.min(fires.size(), from + BATCH));
            List<Optional<String>> refusals = target.fire(batch);
            for (int i = 0; i < batch.size(); i++) {
                Fire f = batch.get(i);
                Entry entry = entries.get(from + i);
                if (refusals.get(i).isEmpty()) {
                    entry.lastFire = Optional.of(f.at());
                    metrics.fireDelay(Duration.between(f.at(), clock.instant()));
                } else {
                    // Disabled meanwhile, shutting down, the queue full: this fire is not run.
                    log.warn(
                            "schedules: {} of {} at {} not run: {}",
                            f.scheduleId(),
                            f.job(),
                            f.at(),
                            refusals.get(i).get());
                }
            }
        }
    }

    /** Fires after the cursor, up to {@code now}, no older than the grace; oldest first, at most 100. */
    private Deque<Instant> missed(Entry entry, Instant now) {
        Instant from = later(entry.cursor, now.minus(entry.spec.misfireGrace()).minusMillis(1));
        Deque<Instant> fires = new ArrayDeque<>();
        Optional<Instant> at = nextAfter(entry, from);
        while (at.isPresent() && !at.get().isAfter(now)) {
            fires.addLast(at.get());
            if (fires.size() > MAX_CATCHUP) {
                fires.removeFirst();
            }
            at = nextAfter(entry, at.get());
        }
        return fires;
    }

    /** The first fire strictly after {@code after}: periods count from {@code time}, else from the anchor. */
    private static Optional<Instant> nextAfter(Entry entry, Instant after) {
        ScheduleSpec spec = entry.spec;
        Optional<ZonedDateTime> first = spec.time()
                .or(() -> spec.frequency() instanceof overseer.job.Frequency.Period
                        ? Optional.of(entry.anchor)
                        : Optional.empty())
                .map(t -> t.atZone(spec.timezone()));
        return spec.frequency().nextAfter(after.atZone(spec.timezone()), first).map(ZonedDateTime::toInstant);
    }

    /** The next fire and last fire of one of a job's schedules; empty when it is not in force (its job disabled). */
    public Optional<Status> status(String job, String scheduleId) {
        return Optional.ofNullable(statuses.get(new Key(job, scheduleId)));
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant earlier(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** Stops firing and saves every cursor. */
    @Override
    public void close() {
        Supervisor.Handle h = handle;
        if (h != null) {
            // Waits for the round in progress: from here on the entries are this thread's.
            h.close();
        }
        try {
            for (Entry entry : entries.values()) {
                if (!entry.savedCursor.equals(entry.cursor)) {
                    save(entry);
                }
            }
        } catch (StoreException e) {
            log.error("schedules: cursors not saved at shutdown (a restart looks at more fires): {}", e.getMessage());
        }
    }
}
