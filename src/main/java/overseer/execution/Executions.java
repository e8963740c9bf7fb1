package overseer.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.CheckoutLease;
import overseer.config.ConfigSync;
import overseer.config.Snapshot;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.VarSpec;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionQuery;
import overseer.store.NewExecution;
import overseer.store.Store;
import overseer.template.RenderException;

/**
 * The execution engine as the API and the server see it: triggers, repeats, events and signals,
 * waiting, recovery and shutdown. Who may run is {@link Admission}'s, what an execution may do
 * next is {@link Lifecycle}'s, and one execution's run is {@link ExecutionRun}'s.
 */
public final class Executions {
    private static final Logger log = LoggerFactory.getLogger(Executions.class);
    private static final Pattern EVENT_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    private static final Set<String> RESERVED_EVENTS = Set.of(
            "stdout",
            "stderr",
            "output",
            "executions",
            "events",
            "queued",
            "start",
            "complete",
            "fail",
            "time-out",
            "lost",
            "skipped");
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    public record Settings(
            Path dataDir,
            int maxConcurrent,
            int maxQueued,
            Duration killGrace,
            Supplier<String> publicUrl,
            Path libraryDir) {}

    /** Trigger input: a JSON object (typed) or form/query strings (coerced). */
    public sealed interface Input {
        record Json(Map<String, Object> values) implements Input {}

        record Strings(Map<String, List<String>> values) implements Input {}
    }

    public record Trigger(
            String job,
            Input input,
            String kind,
            Optional<String> idempotencyKey,
            int priority,
            Optional<Instant> scheduledAt) {}

    private final Settings settings;
    private final Store store;
    private final ConfigSync config;
    private final Launcher launcher;
    private final LaunchPreparation preparation;
    private final Params params;
    private final ObjectMapper json;
    private final Clock clock;
    private final ProcessGroups groups = new ProcessGroups();
    private final Lifecycle lifecycle;
    private final Admission admission;
    private final SecureRandom random = new SecureRandom();

    /** Every execution from admission until it ended, by "job/number". */
    private final Map<String, Unfinished> unfinished = new ConcurrentHashMap<>();
    /** Each unfinished execution's claim in {@link #admission}. */
    private final Map<Unfinished, Admission.Claim> claims = new ConcurrentHashMap<>();

    private final Set<String> disabled = ConcurrentHashMap.newKeySet();
    /** Completes when shutdown begins: waiting and following requests answer then. */
    private final CompletableFuture<Void> closing = new CompletableFuture<>();

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
        this.launcher = launcher;
        this.preparation = new LaunchPreparation(renderer);
        this.params = params;
        this.json = json;
        this.clock = clock;
        this.lifecycle = new Lifecycle(store, groups, clock);
        this.admission = new Admission(settings.maxConcurrent(), settings.maxQueued());
    }

    public Store store() {
        return store;
    }

    /**
     * Makes the store's state true again after a restart: executions that were starting or
     * running are {@code lost} (their leftover processes killed), queued ones wait again. Then
     * starts what fits, and from now on cancels the queued executions of jobs a new commit removes.
     */
    public void recover() {
        disabled.addAll(store.disabledJobs());
        new Recovery(store, groups, clock).recover(e -> {
            LaunchSpec spec = json.readValue(e.launchJson(), LaunchSpec.class);
            Unfinished u = new Unfinished(e, spec, config.hold(e.commit()), token());
            Admission.Claim claim = admission.restore(u);
            track(u, claim);
        });
        config.onApplied(this::applied);
        dispatch();
    }

    /** A new commit is active: queued executions of jobs it no longer has will never run. */
    private void applied(Snapshot snapshot) {
        for (Unfinished u : admission.queued()) {
            if (!JobName.isValid(u.job()) || snapshot.job(new JobName(u.job())).isEmpty()) {
                String cause = "job '" + u.job() + "' is not in commit " + shortId(snapshot.revision()) + " any more";
                if (lifecycle.cancel(u, cause)) {
                    log.info("execution: {} cancelled: {}", u.key(), cause);
                    ended(u);
                }
            }
        }
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
        store.setEnabled(job, enabled, now());
        if (enabled) {
            disabled.remove(job);
        } else {
            disabled.add(job);
        }
    }

    public Store.Created trigger(Trigger t) throws Refused, InvalidParams {
        Snapshot snapshot = config.active()
                .orElseThrow(() -> new Refused(Refused.Reason.NO_CONFIGURATION, "no configuration is active yet"));
        JobDefinition job = configured(snapshot, t.job());
        Map<String, Object> values = switch (t.input()) {
            case Input.Json j -> params.fromJson(job.vars(), j.values());
            case Input.Strings s -> params.fromStrings(job.vars(), s.values());
        };
        return create(t, snapshot, job, values);
    }

    private static JobDefinition configured(Snapshot snapshot, String name) throws Refused {
        return (JobName.isValid(name) ? snapshot.job(new JobName(name)) : Optional.<JobDefinition>empty())
                .orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_JOB, "no job named '" + name + "'"));
    }

    /**
     * A new execution of {@code job} with the params of execution {@code number}, overridden by
     * {@code given}. Secret values are never kept for a repeat: each secret var the execution had
     * must be given again.
     */
    public Store.Created repeat(String job, long number, Map<String, Object> given, Optional<String> idempotencyKey)
            throws Refused, InvalidParams {
        Execution e = execution(job, number);
        Snapshot snapshot = config.active()
                .orElseThrow(() -> new Refused(Refused.Reason.NO_CONFIGURATION, "no configuration is active yet"));
        JobDefinition definition = configured(snapshot, job);
        Map<String, Object> values;
        try {
            values = new LinkedHashMap<>(json.readValue(e.paramsJson(), MAP));
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stored params of " + job + "/" + number + " are unreadable", ex);
        }
        List<InvalidParams.FieldError> missing = new ArrayList<>();
        for (VarSpec v : definition.vars()) {
            if (v.secret() && values.remove(v.name()) != null && !given.containsKey(v.name())) {
                missing.add(new InvalidParams.FieldError(
                        v.name(), "secret values are not kept; give it again in the body"));
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidParams(missing);
        }
        values.putAll(given);
        return trigger(
                new Trigger(job, new Input.Json(values), "repeat", idempotencyKey, e.priority(), Optional.empty()));
    }

    /**
     * Admission, storing and queueing as one step for the rules: the claim is taken before the
     * store write and given back if it fails, so concurrent triggers never overshoot a limit.
     */
    private Store.Created create(Trigger t, Snapshot snapshot, JobDefinition job, Map<String, Object> values)
            throws Refused {
        if (disabled.contains(t.job())) {
            throw new Refused(Refused.Reason.DISABLED, "job '" + t.job() + "' is disabled");
        }
        LaunchPreparation.Prepared prepared = preparation.prepare(snapshot, job, values);
        String commit = snapshot.revision();
        // Rendered here, outside every lock; only a template that uses {{ execution }} is rendered
        // again inside the store's transaction, which assigns the number.
        LaunchPreparation.Launch provisional;
        try {
            provisional = preparation.render(prepared, 0, commit);
        } catch (RenderException e) {
            throw new Refused(Refused.Reason.CANNOT_RENDER, "cannot render the command: " + e.getMessage());
        }
        Admission.Admitted admitted;
        try {
            admitted = admission.reserve(t.job(), job.concurrency(), job.overlap());
        } catch (Refused refused) {
            // A retried POST whose first attempt was accepted gets that execution, whatever the rules say now.
            if (t.idempotencyKey().isPresent()) {
                Optional<Execution> earlier =
                        store.idempotent(t.job(), t.idempotencyKey().get(), now());
                if (earlier.isPresent()) {
                    return new Store.Created(earlier.get(), true);
                }
            }
            throw refused;
        }
        LaunchPreparation.Launch[] launch = {provisional};
        Store.Created created;
        CheckoutLease lease = null;
        try {
            lease = config.hold(commit);
            created = store.create(
                    new NewExecution(
                            t.job(),
                            t.kind(),
                            commit,
                            now(),
                            write(prepared.shown()),
                            "{}",
                            t.priority(),
                            t.scheduledAt(),
                            UUID.randomUUID().toString(),
                            t.idempotencyKey(),
                            number -> {
                                if (provisional.usesNumber()) {
                                    try {
                                        launch[0] = preparation.render(prepared, number, commit);
                                    } catch (RenderException e) {
                                        throw new RenderFailed(e.getMessage());
                                    }
                                }
                                return new NewExecution.Prepared(launch[0].display(), write(launch[0].spec()));
                            }),
                    Event.of("queued", "triggered by " + t.kind(), now(), t.kind()));
        } catch (RenderFailed e) {
            admission.withdraw(admitted.claim());
            lease.close();
            throw new Refused(Refused.Reason.CANNOT_RENDER, "cannot render the command: " + e.getMessage());
        } catch (RuntimeException e) {
            admission.withdraw(admitted.claim());
            if (lease != null) {
                lease.close();
            }
            throw e;
        }
        if (created.existing()) {
            admission.withdraw(admitted.claim());
            lease.close();
            return created;
        }
        Execution e = created.execution();
        Unfinished u = new Unfinished(e, launch[0].spec(), lease, token());
        track(u, admitted.claim());
        boolean keep = admission.admit(admitted.claim(), u);
        String replaced = "replaced by execution " + e.number();
        if (!keep) {
            supersede(u, "replaced by a later execution");
        }
        for (Admission.Claim victim : admitted.victims()) {
            supersede(Admission.execution(victim), replaced);
        }
        dispatch();
        return created;
    }

    private void track(Unfinished u, Admission.Claim claim) {
        claims.put(u, claim);
        unfinished.put(u.key(), u);
    }

    /** Ends an execution to make room under {@code overlap: replace}. */
    private void supersede(Unfinished u, String cause) {
        try {
            if (lifecycle.signal(u, "kill", Optional.of(cause), "overseer")) {
                ended(u);
            }
        } catch (Refused ignored) {
            // It ended meanwhile, which frees the slot as well.
        }
    }

    /** Carries a render failure out of the store's transaction, which it rolls back. */
    private static final class RenderFailed extends RuntimeException {
        RenderFailed(String message) {
            super(message, null, false, false);
        }
    }

    /** Starts queued executions while there are free slots, best priority and oldest first. */
    private void dispatch() {
        for (Admission.Claim c : admission.startable()) {
            Unfinished u = Admission.execution(c);
            Thread.ofVirtual().name("execution-" + u.key()).start(() -> run(u));
        }
    }

    private void run(Unfinished u) {
        try {
            new ExecutionRun(u, lifecycle, launcher, groups, settings, clock, closing::isDone).run();
        } catch (RuntimeException e) {
            log.error("execution: {} failed in the runner: {}", u.key(), e.toString(), e);
            lifecycle.finish(
                    u,
                    java.util.OptionalInt.empty(),
                    Event.of("fail", "overseer failed to run it: " + e.getMessage(), now(), "overseer"),
                    closing::isDone);
        } finally {
            ended(u);
        }
    }

    /** Releases what an ended (or cancelled) execution held, and starts what fits now. */
    private void ended(Unfinished u) {
        Admission.Claim claim = claims.remove(u);
        if (claim == null) {
            return;
        }
        u.lease().close();
        admission.release(claim);
        unfinished.remove(u.key());
        u.ended().complete(null);
        dispatch();
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
            CompletableFuture.anyOf(completion(job, number), closing).get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            // Answer with the state it has now.
        }
        return execution(job, number);
    }

    /** Completes when the execution has finished (at once if it has). */
    public CompletableFuture<Void> completion(String job, long number) {
        Unfinished u = unfinished.get(job + "/" + number);
        return u == null ? CompletableFuture.completedFuture(null) : u.ended();
    }

    /** Completes when the server begins to shut down. */
    public CompletableFuture<Void> closing() {
        return closing;
    }

    /** Why the engine cannot take work now (shutting down, the store failing), if so. */
    public Optional<String> unready() {
        if (closing.isDone()) {
            return Optional.of("the server is shutting down");
        }
        return store.writeFailure().map(f -> "the store cannot record changes: " + f);
    }

    /** A captured stream ({@code stdout}, {@code stderr} or {@code output}) of an execution. */
    public OutputView output(String job, long number, String stream) {
        return OutputView.of(ExecutionRun.directory(settings.dataDir(), job, number), stream);
    }

    /** Whether {@code token} is the per-execution token of this unfinished execution. */
    public boolean tokenMatches(String job, long number, String token) {
        Unfinished u = unfinished.get(job + "/" + number);
        return u != null
                && MessageDigest.isEqual(
                        u.token().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Records an event on an execution. {@code stop}, {@code continue}, {@code terminate} and
     * {@code kill} also signal its processes; any other valid name is a custom event.
     */
    public Execution event(String job, long number, String name, Optional<String> cause, String source) throws Refused {
        if (!EVENT_NAME.matcher(name).matches() || RESERVED_EVENTS.contains(name)) {
            throw new IllegalArgumentException("event name '" + name + "' must match " + EVENT_NAME.pattern()
                    + " and not be one of " + new TreeSet<>(RESERVED_EVENTS));
        }
        Execution e = execution(job, number);
        Unfinished u = unfinished.get(e.job() + "/" + e.number());
        if (u == null) {
            throw new Refused(
                    Refused.Reason.FINISHED, "execution " + job + "/" + number + " has finished (" + e.status() + ")");
        }
        if (Lifecycle.SIGNALS.containsKey(name)) {
            if (lifecycle.signal(u, name, cause, source)) {
                ended(u);
            }
        } else {
            lifecycle.event(u, new Event(name, cause, now(), source));
        }
        return execution(job, number);
    }

    /**
     * Stops taking triggers and ends waiting requests, lets running executions finish for up to
     * {@code grace}, then terminates the rest (recording why) and waits for them to end. Queued
     * ones stay queued for the next start.
     */
    public void shutdown(Duration grace) {
        admission.close();
        closing.complete(null);
        List<Unfinished> left = admission.running();
        long deadline = System.nanoTime() + grace.toNanos();
        for (Unfinished u : left) {
            waitFor(u, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        signalAll(left, "terminate");
        for (Unfinished u : left) {
            waitFor(u, settings.killGrace());
        }
        signalAll(left, "kill");
        for (Unfinished u : left) {
            waitFor(u, Duration.ofSeconds(5));
        }
    }

    private void signalAll(List<Unfinished> executions, String signal) {
        for (Unfinished u : executions) {
            if (!u.ended().isDone()) {
                try {
                    lifecycle.signal(u, signal, Optional.of("the server is shutting down"), "overseer");
                } catch (Refused | RuntimeException e) {
                    // Ended (or ending) meanwhile.
                }
            }
        }
    }

    private static void waitFor(Unfinished u, Duration limit) {
        try {
            u.ended().get(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            // Still running.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String token() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shortId(String revision) {
        return revision.length() > 10 ? revision.substring(0, 10) : revision;
    }

    private Instant now() {
        return clock.instant();
    }
}
