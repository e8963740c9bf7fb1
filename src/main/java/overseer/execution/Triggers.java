package overseer.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import overseer.config.CheckoutLease;
import overseer.config.ConfigSync;
import overseer.config.Snapshot;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.VarSpec;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.NewExecution;
import overseer.store.Store;
import overseer.template.RenderException;

/**
 * Turns triggers and repeats into stored, queued executions: binds the params, renders the
 * command, takes the execution's place through {@link Admission}, stores it and hands it to the
 * {@link Engine}. Nothing is stored for a trigger that is refused.
 */
final class Triggers {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Triggers.class);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    private final ConfigSync config;
    private final Params params;
    private final LaunchPreparation preparation;
    private final Store store;
    private final Engine engine;
    private final Admission admission;
    private final Predicate<String> disabled;
    private final ObjectMapper json;
    private final Clock clock;

    Triggers(
            ConfigSync config,
            Params params,
            LaunchPreparation preparation,
            Store store,
            Engine engine,
            Predicate<String> disabled,
            ObjectMapper json,
            Clock clock) {
        this.config = config;
        this.params = params;
        this.preparation = preparation;
        this.store = store;
        this.engine = engine;
        this.admission = engine.admission();
        this.disabled = disabled;
        this.json = json;
        this.clock = clock;
    }

    /**
     * The triggers being stored, by job and idempotency key: a second trigger with a key that one
     * is storing waits for it and answers with its execution. Admitted side by side, each would
     * take a place under the job's rules, and under {@code overlap: replace} the second would
     * replace the first, the very execution it is a retry of.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.CompletableFuture<Void>>
            keysInFlight = new java.util.concurrent.ConcurrentHashMap<>();

    private static final java.time.Duration KEY_WAIT = java.time.Duration.ofSeconds(30);

    Store.Created trigger(Executions.Trigger t) throws Refused, InvalidParams {
        if (t.idempotencyKey().isEmpty()) {
            return triggerOnce(t);
        }
        String key = t.job() + "\u0000" + t.idempotencyKey().get();
        java.util.concurrent.CompletableFuture<Void> mine = new java.util.concurrent.CompletableFuture<>();
        while (true) {
            java.util.concurrent.CompletableFuture<Void> earlier = keysInFlight.putIfAbsent(key, mine);
            if (earlier == null) {
                break;
            }
            log.debug("trigger: {} waits for the trigger before it with its idempotency key", t.job());
            try {
                earlier.get(KEY_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // The earlier one is slow or failed: this one goes through admission itself.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Refused(Refused.Reason.SHUTTING_DOWN, "interrupted while a trigger with this key was stored");
            }
            Optional<Execution> made =
                    store.idempotent(t.job(), t.idempotencyKey().get(), now());
            if (made.isPresent()) {
                return new Store.Created(made.get(), true);
            }
        }
        try {
            return triggerOnce(t);
        } finally {
            keysInFlight.remove(key, mine);
            mine.complete(null);
        }
    }

    private Store.Created triggerOnce(Executions.Trigger t) throws Refused, InvalidParams {
        Pending p = stage(t);
        String runId = p.insert().execution().runId();
        engine.admitting(runId);
        try {
            List<Store.Inserted> stored;
            try {
                stored = store.createAll(List.of(p.insert()));
            } catch (RuntimeException e) {
                Optional<Execution> made =
                        RecordedAfterAll.find(store, p.insert().execution(), e);
                if (made.isEmpty()) {
                    abandon(p);
                    throw e;
                }
                stored = List.of(new Store.Inserted.Done(new Store.Created(made.get(), false)));
                engine.queuedReadAgain(made.get().job(), made.get().number());
            }
            return settle(t, p, stored.getFirst());
        } finally {
            engine.admitted(runId);
        }
    }

    /** What became of one trigger of a batch: its execution, or why there is none. */
    sealed interface Outcome {
        record Created(Store.Created created) implements Outcome {}

        /** A scheduled fire that was refused, recorded as an execution that ended {@code skipped}. */
        record Skipped(Store.Created created, String refusal) implements Outcome {}

        record Failed(Exception error) implements Outcome {}
    }

    /**
     * Several triggers stored in one transaction: the scheduler's fires of one moment. Each is
     * checked and admitted as {@link #trigger} does; one that is refused does not stop the others.
     */
    List<Outcome> triggerAll(List<Executions.Trigger> triggers) {
        Outcome[] outcomes = new Outcome[triggers.size()];
        List<Pending> pending = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < triggers.size(); i++) {
            Executions.Trigger t = triggers.get(i);
            try {
                pending.add(stage(t));
                positions.add(i);
            } catch (Refused | InvalidParams | RuntimeException e) {
                if (refusedFire(t, e)) {
                    // A refused fire leaves a record, stored with the others.
                    pending.add(skippedFire(t, e.getMessage()));
                    positions.add(i);
                } else {
                    outcomes[i] = new Outcome.Failed(e);
                }
            }
        }
        if (pending.isEmpty()) {
            return List.of(outcomes);
        }
        List<String> runIds =
                pending.stream().map(p -> p.insert().execution().runId()).toList();
        runIds.forEach(engine::admitting);
        try {
            settleAll(triggers, pending, positions, outcomes);
        } finally {
            runIds.forEach(engine::admitted);
        }
        return List.of(outcomes);
    }

    /** Stores the staged triggers of a batch in one transaction and settles each, into {@code outcomes}. */
    private void settleAll(
            List<Executions.Trigger> triggers, List<Pending> pending, List<Integer> positions, Outcome[] outcomes) {
        List<Store.Inserted> stored;
        try {
            stored = store.createAll(pending.stream().map(Pending::insert).toList());
        } catch (RuntimeException e) {
            // Each insert is behind a savepoint of its own: some may be stored and others not.
            Map<String, Execution> made = RecordedAfterAll.find(
                    store, pending.stream().map(p -> p.insert().execution()).toList(), e);
            made.values().forEach(x -> engine.queuedReadAgain(x.job(), x.number()));
            stored = pending.stream()
                    .<Store.Inserted>map(p -> Optional.ofNullable(
                                    made.get(p.insert().execution().runId()))
                            .<Store.Inserted>map(x -> new Store.Inserted.Done(new Store.Created(x, false)))
                            .orElse(new Store.Inserted.Failed(e)))
                    .toList();
        }
        List<Pending> late = new ArrayList<>();
        List<Integer> latePositions = new ArrayList<>();
        for (int k = 0; k < pending.size(); k++) {
            int i = positions.get(k);
            try {
                outcomes[i] =
                        settled(pending.get(k), stored.get(k), settle(triggers.get(i), pending.get(k), stored.get(k)));
            } catch (Refused | RuntimeException e) {
                if (refusedFire(triggers.get(i), e) && pending.get(k).refusal().isEmpty()) {
                    // Refused inside the store's transaction (its command, rendered with its number).
                    late.add(skippedFire(triggers.get(i), e.getMessage()));
                    latePositions.add(i);
                }
                outcomes[i] = new Outcome.Failed(e);
            }
        }
        if (!late.isEmpty()) {
            try {
                List<Store.Inserted> skipped =
                        store.createAll(late.stream().map(Pending::insert).toList());
                for (int k = 0; k < late.size(); k++) {
                    if (skipped.get(k) instanceof Store.Inserted.Done done) {
                        outcomes[latePositions.get(k)] = new Outcome.Skipped(
                                done.created(), late.get(k).refusal().orElseThrow());
                    }
                }
            } catch (RuntimeException e) {
                // Each stays Failed with its refusal: the caller counts it as lost.
            }
        }
    }

    /** Whether {@code error} refused a scheduled fire (a failing store refuses nothing: it is tried again). */
    private static boolean refusedFire(Executions.Trigger t, Exception error) {
        return t.scheduleId().isPresent()
                && t.scheduledAt().isPresent()
                && !(error instanceof overseer.store.StoreException);
    }

    /**
     * A fire's outcome: skipped when it was refused (a skip under {@code overlap: skip} is what
     * its job asked for, and is an execution like any other).
     */
    private static Outcome settled(Pending p, Store.Inserted stored, Store.Created created) {
        if (p.refusal().isPresent()) {
            return new Outcome.Skipped(created, p.refusal().get());
        }
        if (stored instanceof Store.Inserted.Done done
                && done.refused().isPresent()
                && done.refused().get().kind() == Store.Refusal.Kind.QUEUE_FULL) {
            return new Outcome.Skipped(
                    created,
                    Refused.of(created.execution().job(), done.refused().get()).getMessage());
        }
        return new Outcome.Created(created);
    }

    /**
     * The record of a scheduled fire refused before it could be prepared (no configuration, an
     * unknown or disabled job, vars or a command that do not fit): an execution that ends
     * {@code skipped} at once, with the refusal as the cause and without params or command.
     */
    private Pending skippedFire(Executions.Trigger t, String refusal) {
        NewExecution e = new NewExecution(
                t.job(),
                t.kind(),
                config.active().map(Snapshot::revision).orElse(""),
                now(),
                "{}",
                "{}",
                t.priority(),
                t.scheduledAt(),
                UUID.randomUUID().toString(),
                Optional.empty(),
                NewExecution.Origin.schedule(t.scheduleId().orElseThrow()).by(t.triggeredBy()),
                n -> new NewExecution.Prepared("", "{}"));
        return new Pending(
                Optional.empty(),
                Optional.empty(),
                new Store.Insert(
                        e,
                        Event.of("queued", "triggered by " + t.kind(), now(), t.kind()),
                        Optional.of(Event.of("skipped", refusal, now(), "overseer"))),
                new LaunchPreparation.Launch[1],
                Optional.of(refusal));
    }

    /** A trigger checked, ready to be stored: its claim (none for a skipped fire) and checkout held. */
    private record Pending(
            Optional<Admission.Claim> claim,
            Optional<CheckoutLease> lease,
            Store.Insert insert,
            LaunchPreparation.Launch[] launch,
            Optional<String> refusal) {}

    private Pending stage(Executions.Trigger t) throws Refused, InvalidParams {
        Snapshot snapshot = config.active()
                .orElseThrow(() -> new Refused(Refused.Reason.NO_CONFIGURATION, "no configuration is active yet"));
        JobDefinition job = configured(snapshot, t.job());
        Map<String, Object> values = switch (t.input()) {
            case Executions.Input.Json j -> params.fromJson(job.vars(), j.values());
            case Executions.Input.Strings s -> params.fromStrings(job.vars(), s.values());
        };
        return stage(t, snapshot, job, values);
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
    Store.Created repeat(
            String job, long number, Map<String, Object> given, Optional<String> idempotencyKey, Optional<String> by)
            throws Refused, InvalidParams {
        Execution e = store.execution(job, number)
                .orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_EXECUTION, "no execution " + job + "/" + number));
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
        return trigger(new Executions.Trigger(
                        job,
                        new Executions.Input.Json(values),
                        "repeat",
                        idempotencyKey,
                        e.priority(),
                        Optional.empty())
                .by(by));
    }

    /**
     * A trigger ready to be stored under its job's rules, which the store checks as it creates
     * the execution: the queue's bound, the job's concurrency and overlap policy, and whether it
     * starts at once (when this server holds a slot for it). A scheduled fire that the rules
     * refuse is recorded all the same, ended {@code skipped} with why.
     */
    private Pending stage(Executions.Trigger t, Snapshot snapshot, JobDefinition job, Map<String, Object> values)
            throws Refused {
        if (disabled.test(t.job())) {
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
        LaunchPreparation.Launch[] launch = {provisional};
        Store.Insert queued = new Store.Insert(
                newExecution(t, commit, prepared, provisional, launch),
                Event.of("queued", "triggered by " + t.kind(), now(), t.kind()),
                Optional.empty());
        Admission.Claim claim;
        try {
            claim = admission.reserve(t.job());
        } catch (Refused refused) {
            if (t.scheduleId().isPresent()) {
                // A scheduled fire is never refused silently: it is recorded as skipped, with why.
                return new Pending(
                        Optional.empty(),
                        Optional.empty(),
                        new Store.Insert(
                                queued.execution(),
                                queued.queued(),
                                Optional.of(Event.of("skipped", refused.getMessage(), now(), "overseer"))),
                        launch,
                        Optional.of(refused.getMessage()));
            }
            throw refused;
        }
        try {
            Store.Admit rules = new Store.Admit(
                    job.concurrency(),
                    switch (job.overlap()) {
                        case QUEUE -> Store.OnLimit.QUEUE;
                        case SKIP -> Store.OnLimit.SKIP;
                        case REPLACE -> Store.OnLimit.REPLACE;
                    },
                    admission.maxQueued(),
                    admission.holdSlot(claim, job.concurrency()));
            Optional<java.util.function.Function<Store.Refusal, Event>> onRefusal =
                    t.scheduleId().isPresent()
                            ? Optional.of(refusal -> refusedFire(t.job(), refusal))
                            : Optional.empty();
            return new Pending(
                    Optional.of(claim),
                    Optional.of(config.hold(commit)),
                    queued.admittedUnder(rules, onRefusal),
                    launch,
                    Optional.empty());
        } catch (RuntimeException e) {
            if (admission.withdraw(claim)) {
                // The slot it held is free again.
                engine.dispatch();
            }
            throw e;
        }
    }

    /** After the store write: a new execution joins the queue; anything else gives its place back. */
    private Store.Created settle(Executions.Trigger t, Pending p, Store.Inserted stored) throws Refused {
        switch (stored) {
            case Store.Inserted.Failed(RuntimeException e) -> {
                abandon(p);
                if (e instanceof RenderFailed) {
                    throw new Refused(Refused.Reason.CANNOT_RENDER, "cannot render the command: " + e.getMessage());
                }
                throw e;
            }
            case Store.Inserted.Refused(Store.Refusal refusal) -> {
                abandon(p);
                // A retried POST whose first attempt was accepted gets that execution, whatever the rules say now.
                if (t.idempotencyKey().isPresent()) {
                    Optional<Execution> earlier =
                            store.idempotent(t.job(), t.idempotencyKey().get(), now());
                    if (earlier.isPresent()) {
                        return new Store.Created(earlier.get(), true);
                    }
                }
                throw Refused.of(t.job(), refusal);
            }
            case Store.Inserted.Done(
                    Store.Created created,
                    Store.Replaced replaced,
                    Optional<Store.Refusal> refused) -> {
                // Read back after a lost answer, it may be one that admission recorded ended.
                if (created.existing()
                        || p.claim().isEmpty()
                        || refused.isPresent()
                        || created.execution().state().terminal()) {
                    abandon(p);
                    return created;
                }
                engine.enqueue(
                        p.claim().get(),
                        engine.hold(
                                created.execution(),
                                p.launch()[0].spec(),
                                p.lease().orElseThrow()),
                        replaced);
                return created;
            }
        }
    }

    /** Gives back what a trigger held: its claim and its checkout. */
    private void abandon(Pending p) {
        boolean slotFreed = p.claim().map(admission::withdraw).orElse(false);
        p.lease().ifPresent(CheckoutLease::close);
        if (slotFreed) {
            // The running slot it held is free again, for what queued behind it meanwhile.
            engine.dispatch();
        }
    }

    /**
     * The execution to store; {@code launch[0]} ends up holding its launch, rendered again with its
     * number inside the store's transaction when the template uses {@code {{ execution }}}.
     */
    private NewExecution newExecution(
            Executions.Trigger t,
            String commit,
            LaunchPreparation.Prepared prepared,
            LaunchPreparation.Launch provisional,
            LaunchPreparation.Launch[] launch) {
        return new NewExecution(
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
                t.scheduleId()
                        .map(NewExecution.Origin::schedule)
                        .orElse(NewExecution.Origin.NONE)
                        .by(t.triggeredBy()),
                number -> {
                    if (provisional.usesNumber()) {
                        try {
                            launch[0] = preparation.render(prepared, number, commit);
                        } catch (RenderException e) {
                            throw new RenderFailed(e.getMessage());
                        }
                    }
                    return new NewExecution.Prepared(
                            launch[0].display(),
                            write(launch[0].spec()),
                            launch[0].spec().limit(),
                            launch[0].spec().nodes());
                });
    }

    /**
     * The final event of a scheduled fire that admission refused: its {@code overlap: skip} job is
     * at its limit (naming the executions it gave way to), or the queue is full.
     */
    private Event refusedFire(String job, Store.Refusal refusal) {
        String cause = switch (refusal.kind()) {
            case AT_LIMIT ->
                "execution "
                        + refusal.holders().stream()
                                .map(String::valueOf)
                                .collect(java.util.stream.Collectors.joining(", "))
                        + " of '" + job + "' is still running and its overlap policy is skip";
            case QUEUE_FULL -> Refused.of(job, refusal).getMessage();
        };
        return Event.of("skipped", cause, now(), "overseer");
    }

    /** Carries a render failure out of the store's transaction, which it rolls back. */
    private static final class RenderFailed extends RuntimeException {
        RenderFailed(String message) {
            super(message, null, false, false);
        }
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Instant now() {
        return clock.instant();
    }
}
