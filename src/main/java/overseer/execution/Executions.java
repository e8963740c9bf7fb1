package overseer.execution;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import overseer.config.ConfigSync;
import overseer.job.JobName;
import overseer.output.OutputView;
import overseer.process.Launcher;
import overseer.process.ProcessGroups;
import overseer.schedule.Scheduler;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionQuery;
import overseer.store.Store;

/**
 * The execution engine as the API and the server see it: triggers, repeats, events and signals,
 * waiting, recovery and shutdown. Who may run is {@link Admission}'s, what an execution may do
 * next is {@link Lifecycle}'s, and one execution's run is {@link ExecutionRun}'s.
 */
public final class Executions {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Executions.class);

    public record Settings(
            Path dataDir,
            int maxConcurrent,
            int maxQueued,
            Duration killGrace,
            Supplier<String> publicUrl,
            Path libraryDir,
            Path eventPipe,
            long maxOutputBytes,
            int maxEvents,
            java.util.Optional<JobUser> jobUser,
            overseer.metrics.Metrics metrics,
            String nodeMark) {}

    /** Trigger input: a JSON object (typed) or form/query strings (coerced). */
    public sealed interface Input {
        record Json(Map<String, Object> values) implements Input {}

        record Strings(Map<String, List<String>> values) implements Input {}
    }

    /** A request to run a job; a scheduled one names its schedule, and its fire time is {@code scheduledAt}. */
    public record Trigger(
            String job,
            Input input,
            String kind,
            Optional<String> idempotencyKey,
            int priority,
            Optional<Instant> scheduledAt,
            Optional<String> scheduleId,
            Optional<String> triggeredBy) {
        public Trigger(
                String job,
                Input input,
                String kind,
                Optional<String> idempotencyKey,
                int priority,
                Optional<Instant> scheduledAt) {
            this(job, input, kind, idempotencyKey, priority, scheduledAt, Optional.empty(), Optional.empty());
        }

        /** The same trigger, made by {@code caller} (a token's label). */
        public Trigger by(Optional<String> caller) {
            return new Trigger(job, input, kind, idempotencyKey, priority, scheduledAt, scheduleId, caller);
        }
    }

    private final Settings settings;
    private final Store store;
    private final ConfigSync config;
    private final ObjectMapper json;
    private final Clock clock;
    private final ProcessGroups groups = new ProcessGroups();
    private final Engine engine;
    private final Triggers triggers;
    private final Set<String> disabled = ConcurrentHashMap.newKeySet();
    /** The queue's service, once {@link #startQueue} started it. */
    private volatile java.util.Optional<overseer.service.Supervisor.Handle> queue = java.util.Optional.empty();

    /**
     * Reads the jobs' states other nodes set, on a shared store; stopped with the queue (it read
     * on from a closed store, and logged so, in the tests that followed in the same JVM).
     */
    private volatile java.util.Optional<overseer.service.Supervisor.Handle> jobStates = java.util.Optional.empty();

    private final List<Runnable> enabledChanged = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Executions(
            Settings settings,
            Store store,
            ConfigSync config,
            Launcher launcher,
            overseer.template.Renderer renderer,
            Params params,
            ObjectMapper json,
            Clock clock) {
        this.settings = settings;
        this.store = store;
        this.config = config;
        this.json = json;
        this.clock = clock;
        this.engine = new Engine(settings, store, launcher, groups, clock);
        this.triggers = new Triggers(
                config, params, new LaunchPreparation(renderer), store, engine, disabled::contains, json, clock);
        engine.onEnding(new Retries(store, config, engine, json, clock)::ending);
    }

    public Store store() {
        return store;
    }

    /**
     * Makes the store's state true again after a restart: executions that were starting or
     * running are {@code lost} (their leftover processes killed), queued ones wait again (for
     * {@link #startQueue}), and from now on cancels the queued executions of jobs a new commit removes.
     */
    public void recover() {
        disabled.addAll(store.disabledJobs());
        new Recovery(store, groups, clock).recover(e -> {
            LaunchSpec spec = json.readValue(e.launchJson(), LaunchSpec.class);
            engine.restore(engine.hold(e, spec, config.hold(e.commit())));
        });
        config.onApplied(snapshot -> {
            java.util.function.Predicate<String> exists = job ->
                    JobName.isValid(job) && snapshot.job(new JobName(job)).isPresent();
            engine.cancelRemoved(exists, shortId(snapshot.revision()));
            if (store.clustered()) {
                cancelRemovedInStore(exists, shortId(snapshot.revision()));
            }
        });
    }

    /**
     * On a shared store the queue is not all in this server's memory: the queued executions of
     * removed jobs that no one here holds are cancelled in the store (every node applying the
     * commit tries; the first one's write is the one made, the others find them ended).
     */
    private void cancelRemovedInStore(java.util.function.Predicate<String> exists, String revision) {
        for (Execution e : store.unfinished()) {
            if (e.state() != overseer.store.ExecutionState.QUEUED
                    || exists.test(e.job())
                    || engine.find(e.job(), e.number()).isPresent()) {
                continue;
            }
            String cause = "job '" + e.job() + "' is not in commit " + revision + " any more";
            try {
                store.cancelled(e.job(), e.number(), Event.of("fail", cause, clock.instant(), "overseer"));
                log.info("execution: {}/{} cancelled: {}", e.job(), e.number(), cause);
            } catch (overseer.store.StaleState claimed) {
                // Claimed or ended meanwhile.
            }
        }
    }

    /**
     * Starts the queue: a background service whose rounds claim, in the store, what may start
     * now (after {@link #recover}, which hands it what the previous server left queued). Rows
     * this server does not hold are read as recovery reads them. {@link #shutdown} stops it.
     */
    public void startQueue(overseer.service.Supervisor supervisor) {
        overseer.service.Supervisor.Handle handle = supervisor.start(new overseer.service.BackgroundService() {
            @Override
            public String name() {
                return "queue";
            }

            @Override
            public java.time.Duration runOnce() {
                return engine.claimRound();
            }
        });
        if (store.clustered()) {
            jobStates = java.util.Optional.of(supervisor.start(new overseer.service.BackgroundService() {
                @Override
                public String name() {
                    return "job-states";
                }

                @Override
                public java.time.Duration runOnce() {
                    boolean changed;
                    enabling.lock();
                    try {
                        changed = followEnabled(store.disabledJobs());
                    } finally {
                        enabling.unlock();
                    }
                    if (changed) {
                        enabledChanged.forEach(Runnable::run);
                    }
                    return java.time.Duration.ofSeconds(1);
                }
            }));
        }
        engine.connectQueue(handle::wake, e -> {
            if (!config.has(e.commit())) {
                // Created by another node on a commit this one has not fetched yet: it fetches
                // now, and leaves the execution to the queue (another node, or a later round).
                config.requestSync();
                throw new Engine.CommitMissing(e.commit());
            }
            return engine.hold(e, json.readValue(e.launchJson(), LaunchSpec.class), config.hold(e.commit()));
        });
        queue = java.util.Optional.of(handle);
    }

    /**
     * Ends the work of every node whose lease ran out (one transaction per node; a node that
     * other nodes end at the same time is passed over): its starting and running executions are
     * {@code lost}, with a cause naming it and when it was last seen, or, for {@code predecessor}
     * (the server that ran on this data directory before), as a restart ends them, with whatever
     * of them still runs here killed. Returns how many nodes it ended.
     */
    public int reapExpiredNodes(Optional<String> predecessor) {
        Recovery recovery = new Recovery(store, groups, clock);
        int reaped = 0;
        while (true) {
            Optional<Store.Reaped> done =
                    store.reapExpiredNode((node, e) -> recovery.endOf(e, lostCause(node, e, predecessor)));
            if (done.isEmpty()) {
                return reaped;
            }
            reaped++;
            Store.Reaped r = done.get();
            boolean ours = predecessor.equals(Optional.of(r.node().id()));
            log.warn(
                    "cluster: node {} ({}) {}; {} execution(s) ended, {} webhook claim(s) released",
                    r.node().id(),
                    r.node().url().orElse(r.node().host()),
                    ours ? "ran here before this server" : "stopped renewing its lease",
                    r.ended().size(),
                    r.deliveriesReleased());
            for (Execution e : r.ended()) {
                if (ours) {
                    groups.killMarked(e.runId());
                }
                log.warn(
                        "execution: {}/{} {}: {}",
                        e.job(),
                        e.number(),
                        recovery.endOf(e, "").name(),
                        lostCause(r.node(), e, predecessor));
            }
        }
    }

    private static String lostCause(overseer.store.ClusterNode node, Execution e, Optional<String> predecessor) {
        if (predecessor.equals(Optional.of(node.id()))) {
            return "the server stopped while it " + (e.startedAt().isPresent() ? "ran" : "was starting");
        }
        return "node " + node.id() + " (" + node.url().orElse(node.host()) + ") stopped renewing its lease; last seen "
                + node.heartbeatAt();
    }

    /** This node may have lost its lease: nothing more starts, and what runs is killed (see {@link Engine#fence}). */
    public int fence() {
        return engine.fence();
    }

    /**
     * This node holds a lease again, its own taken back or, when {@code lost}, a new one: executions
     * start again (see {@link Engine#unfence}).
     */
    public void unfence(boolean lost) {
        engine.unfence(lost);
    }

    /** A job of the active configuration, or one that has executions on record. */
    public boolean known(String job) {
        boolean configured = JobName.isValid(job)
                && config.active().flatMap(s -> s.job(new JobName(job))).isPresent();
        return configured
                || !store.executions(job, new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 1))
                        .isEmpty();
    }

    public boolean enabled(String job) {
        return !disabled.contains(job);
    }

    public void setEnabled(String job, boolean enabled) throws Refused {
        if (!known(job)) {
            throw new Refused(Refused.Reason.UNKNOWN_JOB, "no job named '" + job + "'");
        }
        enabling.lock();
        try {
            store.setEnabled(job, enabled, clock.instant());
            if (enabled) {
                disabled.remove(job);
            } else {
                disabled.add(job);
                engine.cancelRetries(job, "job '" + job + "' was disabled");
            }
        } finally {
            enabling.unlock();
        }
        enabledChanged.forEach(Runnable::run);
    }

    /**
     * Held while the jobs' states are written or read back: a read taken before this server's own
     * write committed must not undo it in memory.
     */
    private final java.util.concurrent.locks.ReentrantLock enabling = new java.util.concurrent.locks.ReentrantLock();

    /**
     * Takes on the jobs disabled in the store (by any node): a job another node disabled is
     * refused and stops firing here too, within a second; its retries this server holds are
     * cancelled. True when something changed.
     */
    private boolean followEnabled(Set<String> stored) {
        boolean changed = false;
        for (String job : Set.copyOf(disabled)) {
            if (!stored.contains(job) && disabled.remove(job)) {
                changed = true;
            }
        }
        for (String job : stored) {
            if (disabled.add(job)) {
                engine.cancelRetries(job, "job '" + job + "' was disabled");
                changed = true;
            }
        }
        return changed;
    }

    /** Runs {@code listener} after a job was enabled or disabled. */
    public void onEnabledChanged(Runnable listener) {
        enabledChanged.add(listener);
    }

    /**
     * Runs fires of schedules, stored in one transaction: each queued, or recorded {@code skipped}
     * while its {@code overlap: skip} job is busy or when it is refused (the queue full, no
     * configuration, a command that cannot be rendered…), with the refusal as the cause. Returns
     * for each refused one why; a fire whose skipped record cannot be stored either is counted in
     * {@code overseer_schedule_fires_lost_total} and logged with its due time.
     */
    public List<Optional<String>> fire(List<Scheduler.Fire> fires) {
        List<Trigger> batch = fires.stream()
                .map(f -> new Trigger(
                        f.job(),
                        new Input.Json(
                                new java.util.LinkedHashMap<>(f.schedule().vars())),
                        "schedule",
                        Optional.empty(),
                        f.schedule().priority(),
                        Optional.of(f.at()),
                        Optional.of(f.scheduleId()),
                        Optional.empty()))
                .toList();
        List<Triggers.Outcome> outcomes = triggers.triggerAll(batch);
        List<Optional<String>> refusals = new java.util.ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            Scheduler.Fire f = fires.get(i);
            refusals.add(
                    switch (outcomes.get(i)) {
                        case Triggers.Outcome.Created c -> Optional.empty();
                        case Triggers.Outcome.Skipped s -> {
                            log.warn(
                                    "schedules: {} of {} at {} not run, recorded as skipped execution {}: {}",
                                    f.scheduleId(),
                                    f.job(),
                                    f.at(),
                                    s.created().execution().number(),
                                    s.refusal());
                            yield Optional.of(s.refusal());
                        }
                        case Triggers.Outcome.Failed(overseer.store.StoreException e) -> throw e;
                        case Triggers.Outcome.Failed(Exception e) -> {
                            // Not even its skipped record could be stored: the one trace left is this.
                            settings.metrics().fireLost(f.job());
                            log.error(
                                    "schedules: {} of {} due at {} lost: not run, and its skipped record not stored: {}",
                                    f.scheduleId(),
                                    f.job(),
                                    f.at(),
                                    e.getMessage());
                            yield Optional.of(e.getMessage());
                        }
                    });
        }
        return refusals;
    }

    /** Runs a job with the params of a trigger; refused, or stored and queued before it returns. */
    public Store.Created trigger(Trigger t) throws Refused, InvalidParams {
        try {
            return triggers.trigger(t);
        } catch (Refused e) {
            settings.metrics().refused(e.reason().name().toLowerCase(java.util.Locale.ROOT));
            throw e;
        }
    }

    /** Executions waiting for a slot. */
    public int queueDepth() {
        return engine.admission().queueLength();
    }

    /** Executions holding a slot. */
    public int runningCount() {
        return engine.admission().running().size();
    }

    /**
     * A new execution of {@code job} with the params of execution {@code number}, overridden by
     * {@code given}; each secret var it had must be given again.
     */
    public Store.Created repeat(
            String job, long number, Map<String, Object> given, Optional<String> idempotencyKey, Optional<String> by)
            throws Refused, InvalidParams {
        return triggers.repeat(job, number, given, idempotencyKey, by);
    }

    public Execution execution(String job, long number) throws Refused {
        return store.execution(job, number)
                .orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_EXECUTION, "no execution " + job + "/" + number));
    }

    /**
     * Waits until the execution has finished, at most {@code limit} and no longer than until
     * shutdown begins; returns it as it is then.
     */
    public Execution awaitEnd(String job, long number, Duration limit) throws Refused, InterruptedException {
        try {
            CompletableFuture.anyOf(completion(job, number), engine.closing())
                    .get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            // Answer with the state it has now.
        }
        return execution(job, number);
    }

    /** Completes when the execution has finished (at once if it has). */
    public CompletableFuture<Void> completion(String job, long number) {
        return engine.find(job, number).map(Unfinished::ended).orElseGet(() -> CompletableFuture.completedFuture(null));
    }

    /** Completes when the server begins to shut down. */
    public CompletableFuture<Void> closing() {
        return engine.closing();
    }

    /** Why the engine cannot take work now (shutting down, the store failing), if so. */
    public Optional<String> unready() {
        if (engine.closing().isDone()) {
            return Optional.of("the server is shutting down");
        }
        // The store's failure first: it is the cause of a fence, and names the database.
        Optional<String> failure = store.writeFailure().map(f -> "the store cannot record changes: " + f);
        if (failure.isEmpty() && engine.fenced()) {
            return Optional.of("this node is fenced: it could not renew its lease, and starts nothing until it"
                    + " has one again");
        }
        return failure;
    }

    /** A captured stream ({@code stdout}, {@code stderr} or {@code output}) of an execution. */
    public OutputView output(String job, long number, String stream) {
        return OutputView.of(ExecutionRun.directory(settings.dataDir(), job, number), stream);
    }

    /** Whether {@code token} is the per-execution token of this unfinished execution. */
    public boolean tokenMatches(String job, long number, String token) {
        Optional<Unfinished> found = engine.find(job, number);
        return found.isPresent()
                && MessageDigest.isEqual(
                        found.get().token().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Records an event on an execution. {@code stop}, {@code continue}, {@code terminate} and
     * {@code kill} also signal its processes; any other valid name is a custom event.
     */
    public Execution event(String job, long number, String name, Optional<String> cause, String source) throws Refused {
        overseer.event.EventNames.check(name);
        Execution e = execution(job, number);
        Unfinished u = engine.find(e.job(), e.number())
                .orElseThrow(() -> new Refused(
                        Refused.Reason.FINISHED,
                        "execution " + job + "/" + number + " has finished (" + e.status() + ")"));
        if (Lifecycle.SIGNALS.containsKey(name)) {
            engine.signal(u, name, cause, source);
        } else {
            engine.lifecycle().event(u, new Event(name, cause, clock.instant(), source));
        }
        return execution(job, number);
    }

    /**
     * Stops taking triggers and ends waiting requests, lets running executions finish for up to
     * {@code grace}, then terminates the rest (recording why) and waits for them to end. Queued
     * ones stay queued for the next start.
     */
    public void shutdown(Duration grace) {
        engine.shutdown(grace);
        // Stopped once nothing may start: a round it interrupts takes nothing (no slot is free),
        // so no claim it made can be left STARTING with nothing to run it.
        queue.ifPresent(overseer.service.Supervisor.Handle::close);
        jobStates.ifPresent(overseer.service.Supervisor.Handle::close);
    }

    private static String shortId(String revision) {
        return revision.length() > 10 ? revision.substring(0, 10) : revision;
    }
}
