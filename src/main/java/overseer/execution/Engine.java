package overseer.execution;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import overseer.config.CheckoutLease;
import overseer.job.JobName;
import overseer.process.Launcher;
import overseer.process.ProcessGroups;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionState;
import overseer.store.Store;

/**
 * The executions the server holds, from admission until they end: it queues them, starts what
 * the store's queue claim takes and {@link Admission} has a slot for (one virtual thread each,
 * running an {@link ExecutionRun}), passes
 * signals on through the {@link Lifecycle}, and releases what each held once it ended.
 */
final class Engine {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private final Executions.Settings settings;
    private final Launcher launcher;
    private final ProcessGroups groups;
    private final Lifecycle lifecycle;
    private final Admission admission;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    /** Every execution from admission until it ended, by "job/number". */
    private final Map<String, Unfinished> unfinished = new ConcurrentHashMap<>();
    /** Each unfinished execution's claim in {@link #admission}. */
    private final Map<Unfinished, Admission.Claim> claims = new ConcurrentHashMap<>();
    /** Told each execution's final event just before it is recorded (retries). */
    private volatile java.util.function.BiConsumer<Unfinished, Event> ending = (u, e) -> {};
    /** Completes when shutdown begins: waiting and following requests answer then. */
    private final CompletableFuture<Void> closing = new CompletableFuture<>();

    private final Store store;
    /** Ends rows nothing here holds, as a restart would. */
    private final Recovery recovery;
    /**
     * The run ids of executions whose trigger (or retry) is storing them and has not handed them
     * to {@link #enqueue} yet: the queue's claim may take such a row right after its commit, and
     * gives it back, for the trigger to queue it; a row neither here nor held is adopted.
     */
    private final java.util.Set<String> admitting = ConcurrentHashMap.newKeySet();
    /** Makes a claimed row this server did not hold an execution it holds (recovery's reading of a row). */
    private volatile Adopter adopter = e -> {
        throw new IllegalStateException("no adopter yet");
    };
    /** Wakes the queue's claim; a no-op until it runs (the first round looks anyway). */
    private volatile Runnable wakeQueue = () -> {};
    /**
     * A claim (or a give-back) failed: its commit may have been made all the same, leaving rows
     * STARTING that this server still has queued. The next round looks for them first. Touched
     * only by the queue's rounds, one at a time.
     */
    private boolean claimsInDoubt;
    /** When the next round claims even with nothing queued here (it may find rows nobody holds): the first one does. */
    private long nextFullRoundNanos = System.nanoTime();

    /** Reads a stored execution as one the engine holds. */
    @FunctionalInterface
    interface Adopter {
        Unfinished adopt(Execution e) throws com.fasterxml.jackson.core.JsonProcessingException;
    }

    Engine(Executions.Settings settings, Store store, Launcher launcher, ProcessGroups groups, Clock clock) {
        this.settings = settings;
        this.store = store;
        this.launcher = launcher;
        this.groups = groups;
        this.clock = clock;
        this.lifecycle = new Lifecycle(store, groups, clock, settings.maxEvents(), settings.metrics());
        this.recovery = new Recovery(store, groups, clock);
        this.admission = new Admission(settings.maxConcurrent(), settings.maxQueued());
        this.fullRound = store.clustered() ? Duration.ofSeconds(1) : Duration.ofSeconds(5);
    }

    void onEnding(java.util.function.BiConsumer<Unfinished, Event> listener) {
        ending = listener;
    }

    Lifecycle lifecycle() {
        return lifecycle;
    }

    Admission admission() {
        return admission;
    }

    CompletableFuture<Void> closing() {
        return closing;
    }

    /** The engine's view of a stored execution, with a fresh per-execution token. */
    Unfinished hold(Execution e, LaunchSpec spec, CheckoutLease lease) {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return new Unfinished(e, spec, lease, HexFormat.of().formatHex(bytes));
    }

    /**
     * Queues a stored execution under the claim its trigger took, ends the executions the store
     * chose for it to replace ({@code overlap: replace}), and starts what fits. One stored STARTING (admitted
     * at once) starts now, unless shutdown began meanwhile: it then ends without a process.
     */
    void enqueue(Admission.Claim claim, Unfinished u, Store.Replaced replaced) {
        track(u, claim);
        Optional<Admission.Replacement> replacedEarly = admission.admit(claim, u);
        replacedEarly.ifPresent(how -> {
            switch (how) {
                case TO_KILL -> supersede(u, "replaced by a later execution");
                case CANCELLED_IN_STORE -> cancelledInStore(u);
            }
        });
        for (Admission.Claim victim :
                admission.replaced(u.job(), replaced.cancelled(), Admission.Replacement.CANCELLED_IN_STORE)) {
            cancelledInStore(Admission.execution(victim));
        }
        for (Admission.Claim victim : admission.replaced(u.job(), replaced.ending(), Admission.Replacement.TO_KILL)) {
            supersede(Admission.execution(victim), "replaced by execution " + u.number());
        }
        if (replacedEarly.equals(Optional.of(Admission.Replacement.CANCELLED_IN_STORE))) {
            return;
        }
        // The state its creation stored: STARTING when admitted at once.
        if (u.execution().state() != ExecutionState.STARTING) {
            dispatch();
        } else if (admission.mayRun(claim)) {
            startRun(u);
        } else {
            // Shutdown began meanwhile: it goes back to the queue, for the next start to run.
            try {
                lifecycle.backToQueue(u);
            } catch (RuntimeException e) {
                // Left STARTING in the store: the next start records it lost.
                log.warn("execution: {} not started, and not put back in the queue: {}", u.key(), e.getMessage());
            }
            ended(u);
        }
    }

    /**
     * After a trigger whose answer was lost found its execution {@code number} of {@code job}
     * recorded after all: what its transaction replaced is not known here, so each queued
     * execution of the job held here before it is read again, and one its transaction cancelled
     * is released (it would otherwise wait in this server's queue for ever).
     */
    void queuedReadAgain(String job, long number) {
        for (Unfinished u : admission.queued()) {
            if (u.job().equals(job) && u.number() < number) {
                try {
                    Optional<Execution> row = store.execution(job, u.number());
                    if (row.isPresent() && row.get().state() == ExecutionState.CANCELLED) {
                        cancelledInStore(u);
                    }
                } catch (RuntimeException unreadable) {
                    log.warn("execution: {} not read again after a lost answer: {}", u.key(), unreadable.getMessage());
                    return;
                }
            }
        }
    }

    /** A queued execution that a later trigger's transaction cancelled, to make room for it: it is released. */
    private void cancelledInStore(Unfinished u) {
        if (lifecycle.cancelledInStore(u)) {
            ended(u);
        }
    }

    /** Queues again an execution that was queued when the server stopped. */
    void restore(Unfinished u) {
        track(u, admission.restore(u));
    }

    Optional<Unfinished> find(String job, long number) {
        return Optional.ofNullable(unfinished.get(job + "/" + number));
    }

    /** Signals an execution through its lifecycle, releasing it when that cancelled it. */
    void signal(Unfinished u, String signal, Optional<String> cause, String source) throws Refused {
        if (lifecycle.signal(u, signal, cause, source)) {
            ended(u);
        }
    }

    /** Cancels the queued executions of jobs that {@code revision} no longer has. */
    void cancelRemoved(java.util.function.Predicate<String> exists, String revision) {
        for (Unfinished u : admission.queued()) {
            if (!JobName.isValid(u.job()) || !exists.test(u.job())) {
                String cause = "job '" + u.job() + "' is not in commit " + revision + " any more";
                if (lifecycle.cancel(u, cause)) {
                    log.info("execution: {} cancelled: {}", u.key(), cause);
                    ended(u);
                }
            }
        }
    }

    private void track(Unfinished u, Admission.Claim claim) {
        claims.put(u, claim);
        unfinished.put(u.key(), u);
    }

    /** Looks for startable executions again at {@code when}. */
    private void dispatchAt(java.time.Instant when) {
        Thread.ofVirtual().name("retry-timer").start(() -> {
            try {
                Duration wait = Duration.between(clock.instant(), when);
                if (!wait.isNegative()) {
                    Thread.sleep(wait.plusMillis(1));
                }
            } catch (InterruptedException e) {
                return;
            }
            dispatch();
        });
    }

    /** Cancels the pending retries of {@code job} (it was disabled). */
    void cancelRetries(String job, String cause) {
        for (Unfinished u : admission.queued()) {
            if (u.job().equals(job) && u.execution().retryOf().isPresent() && lifecycle.cancel(u, cause)) {
                log.info("execution: {} cancelled: {}", u.key(), cause);
                ended(u);
            }
        }
    }

    /** Ends an execution to make room under {@code overlap: replace}. */
    private void supersede(Unfinished u, String cause) {
        for (int attempt = 1; ; attempt++) {
            try {
                signal(u, "kill", Optional.of(cause), "overseer");
                return;
            } catch (Refused ignored) {
                // It ended meanwhile, which frees the slot as well.
                return;
            } catch (overseer.store.StaleState moved) {
                // It left the state the kill was written against (QUEUED became STARTING between
                // reading and writing): the kill is sent again against the state it is in now.
                if (attempt == 3) {
                    log.warn("execution: {} kept changing state; not replaced: {}", u.key(), moved.getMessage());
                    return;
                }
            } catch (overseer.store.StoreException e) {
                // The kill is not recorded, so it is not sent: the execution runs on, and the one
                // replacing it waits for its slot. The trigger that asked for it is answered anyway.
                log.warn("execution: {} not replaced, the store cannot record the kill: {}", u.key(), e.getMessage());
                return;
            }
        }
    }

    /** Asks the queue's claim to start what fits now (it runs on its own thread; rings pile up into one round). */
    void dispatch() {
        wakeQueue.run();
    }

    /** From now on {@link #dispatch} wakes {@code queue}; {@code adopter} reads rows nobody here holds. */
    void connectQueue(Runnable queue, Adopter adopter) {
        this.adopter = adopter;
        this.wakeQueue = queue;
        queue.run();
    }

    /**
     * Between two rounds, when nothing is queued here or due sooner: on a shared store, rows other
     * nodes queued are found within a second.
     */
    private final Duration fullRound;

    /**
     * One round of the queue: the store claims what may start now, up to this server's free
     * slots, and each claimed execution starts. Returns how long the queue may wait before the
     * next round (a pending retry's time, or {@link #fullRound}); a failed claim throws, for the
     * supervisor's backoff.
     */
    Duration claimRound() {
        round.lock();
        try {
            return claimRoundLocked();
        } finally {
            round.unlock();
        }
    }

    /**
     * Held through each round: shutdown, once no slot is free, waits for the round in progress,
     * so that stopping the queue never interrupts a claim whose commit it would not hear.
     */
    private final java.util.concurrent.locks.ReentrantLock round = new java.util.concurrent.locks.ReentrantLock();

    /**
     * Rows the claim took while their trigger was still queuing them (by run id): STARTING in the
     * store, settled by the first round after their trigger handed them over (or gave up). Only
     * the rounds change it; {@link #admitted} looks in it, to wake the queue for its row.
     */
    private final Map<String, Execution> parked = new ConcurrentHashMap<>();

    /**
     * Signals other nodes recorded for executions this node holds, taken from the store and not
     * yet sent (the execution was parked or adopted meanwhile); touched only by the rounds.
     */
    private final Map<Store.Key, List<String>> remoteSignals = new java.util.LinkedHashMap<>();

    /** Sends the signals other nodes left in the store for what this node runs (a replace there). */
    private void applyRemoteSignals() {
        store.takeRemoteSignals()
                .forEach((k, s) -> remoteSignals.merge(k, s, (a, b) -> {
                    List<String> both = new java.util.ArrayList<>(a);
                    both.addAll(b);
                    return both;
                }));
        for (var it = remoteSignals.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            Optional<Unfinished> held =
                    find(entry.getKey().job(), entry.getKey().number());
            if (held.isPresent()) {
                entry.getValue().forEach(signal -> lifecycle.applyRecorded(held.get(), signal));
                log.info(
                        "execution: {} sent {} recorded by another node",
                        held.get().key(),
                        entry.getValue());
                it.remove();
            } else if (store.execution(entry.getKey().job(), entry.getKey().number())
                    .map(e -> e.finished() || !e.node().equals(Optional.of(store.nodeId())))
                    .orElse(true)) {
                // Ended, or no longer this node's: nothing here to send it to.
                it.remove();
            }
        }
    }

    private Duration claimRoundLocked() {
        java.time.Instant now = clock.instant();
        if (admission.isFenced()) {
            // It claims nothing and the store takes none of its writes: the unfence dispatches.
            return fullRound;
        }
        if (store.clustered()) {
            applyRemoteSignals();
        }
        List<Execution> refused = new java.util.ArrayList<>();
        for (var it = parked.values().iterator(); it.hasNext(); ) {
            Execution e = it.next();
            if (!admitting.contains(e.runId())) {
                it.remove();
                if (!startClaimed(e)) {
                    refused.add(e);
                }
            }
        }
        boolean full = System.nanoTime() - nextFullRoundNanos >= 0;
        if (full) {
            nextFullRoundNanos = System.nanoTime() + fullRound.toNanos();
        }
        if (claimsInDoubt || full) {
            reconcile();
        }
        int free = admission.freeSlots() - parked.size();
        // Nothing queued here: a claim only in a full round, for rows nobody here holds.
        if (free > 0 && (admission.queueLength() > 0 || full)) {
            List<Execution> claimed;
            try {
                claimed = store.claim(free, now);
            } catch (RuntimeException e) {
                claimsInDoubt = true;
                throw e;
            }
            for (Execution e : claimed) {
                if (!startClaimed(e)) {
                    refused.add(e);
                }
            }
        }
        giveBack(refused);
        Duration wait = fullRound;
        Optional<java.time.Instant> due = admission.nextDue(now);
        if (due.isPresent()) {
            Duration untilDue = Duration.between(now, due.get()).plusMillis(1);
            wait = untilDue.compareTo(wait) < 0 ? untilDue : wait;
        }
        return wait;
    }

    /**
     * Starts an execution the store's claim made STARTING, or gives it back when this server has
     * no slot for it now; parks it while its trigger is still queuing it. False when it is
     * nobody's and no slot is free, for {@link #giveBack}.
     */
    private boolean startClaimed(Execution e) {
        // Looked up in this order: a trigger holds its row before it leaves admitting.
        if (admitting.contains(e.runId())) {
            parked.put(e.runId(), e);
            if (admitting.contains(e.runId())) {
                return true;
            }
            // Handed over meanwhile, perhaps before it was parked (unseen by admitted): settled now.
            parked.remove(e.runId());
        }
        Optional<Unfinished> held = find(e.job(), e.number());
        if (held.isEmpty()) {
            return adopt(e);
        }
        Admission.Claim claim = claims.get(held.get());
        if (claim != null) {
            settle(held.get(), claim);
        }
        return true;
    }

    /** Settles the claim of a held execution's row: it starts, goes back to the queue, or (killed meanwhile) ends. */
    private void settle(Unfinished u, Admission.Claim claim) {
        Lifecycle.Claimed settled;
        try {
            settled = lifecycle.claimed(
                    u, () -> admission.waiting(claim), signalled -> admission.takeClaimed(claim, signalled));
        } catch (RuntimeException failed) {
            // Left STARTING: the next round's look at the store finds it.
            claimsInDoubt = true;
            log.warn("execution: {} claimed and not given back: {}", u.key(), failed.getMessage());
            return;
        }
        switch (settled) {
            case TAKEN -> startRun(u);
            case ENDED -> ended(u);
            case GIVEN_BACK, GONE -> {}
        }
    }

    /** An execution's commit is not in this server's copy of the repository (yet). */
    static final class CommitMissing extends RuntimeException {
        CommitMissing(String commit) {
            super("commit " + commit + " is not fetched here", null, false, false);
        }
    }

    /**
     * Starts a claimed execution nobody here held (its trigger never heard its commit, or another
     * node stored it); false when no slot is free or its commit is not here, for {@link #giveBack}.
     */
    private boolean adopt(Execution e) {
        Unfinished u;
        try {
            u = adopter.adopt(e);
        } catch (CommitMissing missing) {
            log.info("execution: {}/{} left to the queue: {}", e.job(), e.number(), missing.getMessage());
            return false;
        } catch (com.fasterxml.jackson.core.JsonProcessingException | RuntimeException unreadable) {
            log.warn("execution: {}/{} cannot be started: {}", e.job(), e.number(), unreadable.getMessage());
            lifecycle.notStartable(e, "cannot read its stored launch spec: " + unreadable.getMessage());
            return true;
        }
        Optional<Admission.Claim> claim = admission.adopt(u);
        if (claim.isEmpty()) {
            u.lease().close();
            return false;
        }
        track(u, claim.get());
        if (admission.replacedBeforeHeld(u)) {
            // A later trigger replaced it while nobody held it: the kill is kept for its start.
            supersede(u, "replaced by a later execution");
        }
        log.info("execution: {} found queued with no one to run it; starting it", u.key());
        startRun(u);
        return true;
    }

    /** Puts claimed rows nobody here holds back in the queue, for a later round. */
    private void giveBack(List<Execution> refused) {
        for (Execution e : refused) {
            try {
                store.backToQueue(e.job(), e.number());
            } catch (RuntimeException failed) {
                claimsInDoubt = true;
                log.warn("execution: {}/{} claimed and not given back: {}", e.job(), e.number(), failed.getMessage());
            }
        }
    }

    /**
     * Makes the rows this node holds in the store agree with what it holds, after a claim or a
     * give-back that failed (its commit may have been made all the same) and in every full round:
     * a STARTING row whose execution this server still has queued was claimed, and is settled
     * now; a STARTING or RUNNING row no trigger is storing and nothing here holds has no one to
     * run it (a start whose trigger never heard its commit, a give-back that failed, a run whose
     * record was refused while this node was fenced, before it took its lease back): it ends as a
     * restart would end it, {@code lost}, rather than hold its job's place for good. Throws when
     * the store cannot be read (the next round looks again).
     */
    private void reconcile() {
        for (Execution e : store.heldRows()) {
            if (admitting.contains(e.runId()) || parked.containsKey(e.runId())) {
                continue;
            }
            Optional<Unfinished> held = find(e.job(), e.number());
            if (held.isEmpty()) {
                try {
                    recovery.endUnheld(
                            e,
                            e.state() == ExecutionState.STARTING
                                    ? "nothing started it (its start was recorded, and not heard)"
                                    : "nothing here runs it any more (its end could not be recorded)");
                } catch (overseer.store.StaleState moved) {
                    // Its run recorded its end between the read and the look here.
                }
                continue;
            }
            Admission.Claim claim = claims.get(held.get());
            if (e.state() == ExecutionState.STARTING && claim != null && admission.waiting(claim)) {
                log.warn(
                        "execution: {} claim was recorded after all; settling it",
                        held.get().key());
                settle(held.get(), claim);
            }
        }
        claimsInDoubt = false;
        if (store.clustered()) {
            letGoOfTakenElsewhere();
        }
    }

    /** How many of the executions this server queued are looked up in one round. */
    private static final int LOOKED_UP = 500;

    /**
     * Lets go of the queued executions this server stored that another node claimed since (this
     * server's memory would otherwise keep them, and their checkouts, for ever).
     */
    private void letGoOfTakenElsewhere() {
        List<Unfinished> queued = admission.queued();
        List<Store.Key> keys = queued.stream()
                .limit(LOOKED_UP)
                .map(u -> new Store.Key(u.job(), u.number()))
                .toList();
        java.util.Set<Store.Key> left = store.leftQueueElsewhere(keys);
        for (Unfinished u : queued.subList(0, keys.size())) {
            if (left.contains(new Store.Key(u.job(), u.number()))
                    && !admitting.contains(u.runId())
                    && !parked.containsKey(u.runId())
                    && lifecycle.takenElsewhere(u)) {
                ended(u);
            }
        }
    }

    /** A trigger or retry is about to store the execution with run id {@code runId}. */
    void admitting(String runId) {
        admitting.add(runId);
    }

    /**
     * Its trigger handed it to {@link #enqueue}, or gave it up: from now on a claim of its row is
     * settled by what this server holds; a row a round kept aside for it is settled by the next.
     * (Removed from {@link #admitting} before {@link #parked} is read, while a round parks before
     * it reads admitting again: one of the two sees the other.)
     */
    void admitted(String runId) {
        admitting.remove(runId);
        if (parked.containsKey(runId)) {
            dispatch();
        }
    }

    /** Runs {@code u}, which holds a running slot, on a virtual thread of its own. */
    private void startRun(Unfinished u) {
        Thread.ofVirtual().name("execution-" + u.key()).start(() -> run(u));
    }

    private void run(Unfinished u) {
        // What this thread logs is about this execution: JSON log lines carry it.
        MDC.put("job", u.job());
        MDC.put("execution", Long.toString(u.number()));
        boolean deferred = false;
        // Registered anew since it started: the end is not this node's to record any more.
        long lease = leases.get();
        java.util.function.BooleanSupplier giveUp = () -> closing.isDone() || leases.get() != lease;
        try {
            deferred = new ExecutionRun(
                                    u,
                                    lifecycle,
                                    launcher,
                                    groups,
                                    settings,
                                    clock,
                                    giveUp,
                                    admission::isFenced,
                                    ending)
                            .run()
                    == ExecutionRun.Ran.DEFERRED;
        } catch (overseer.store.StaleState lost) {
            // Its node's lease ran out (or another node ended it): nothing more is written for it.
            log.warn("execution: {} not recorded further: {}", u.key(), lost.getMessage());
        } catch (RuntimeException e) {
            log.error("execution: {} failed in the runner: {}", u.key(), e.toString(), e);
            try {
                lifecycle.finish(
                        u,
                        OptionalInt.empty(),
                        Event.of("fail", "overseer failed to run it: " + e.getMessage(), clock.instant(), "overseer"),
                        giveUp);
            } catch (overseer.store.StaleState lost) {
                log.warn("execution: {} not recorded further: {}", u.key(), lost.getMessage());
            }
        } finally {
            if (deferred) {
                deferred(u);
            } else {
                ended(u);
            }
            MDC.clear();
        }
    }

    /** How long a queued execution whose start the store could not record waits before it is tried again. */
    private static final Duration START_AGAIN = Duration.ofSeconds(1);

    /**
     * Puts an execution whose start could not be recorded back in the queue, in its place, and
     * looks again in a moment: an accepted execution waits out a store outage, it is not failed.
     */
    private void deferred(Unfinished u) {
        Admission.Claim claim = claims.get(u);
        if (claim == null || !admission.requeue(claim)) {
            // Shutting down: it stays queued in the store, for the next start to run.
            ended(u);
            return;
        }
        dispatchAt(clock.instant().plus(START_AGAIN));
    }

    /**
     * Counts the leases this node has held: one ends when the node registers again under a new
     * id, and with it the runs' right to record what they did (the node that ends the old id's
     * work records it). A fence alone ends none: the node may take its lease back.
     */
    private final java.util.concurrent.atomic.AtomicLong leases = new java.util.concurrent.atomic.AtomicLong();

    /**
     * This node may have lost its lease (it could not renew it in time): nothing more starts, and
     * the processes of every running execution are killed now, before another node can find the
     * lease expired and count their places free. Nothing is recorded meanwhile (the store refuses
     * it, see {@link Store#fenceNode}): the runs keep what they have to record until the node
     * takes its lease back, or give it up when it registers anew. Returns how many were running.
     */
    int fence() {
        admission.fenced(true);
        store.fenceNode();
        List<Unfinished> running = admission.running();
        for (Unfinished u : running) {
            groups.killMarked(u.runId());
        }
        return running.size();
    }

    boolean fenced() {
        return admission.isFenced();
    }

    /**
     * The node holds a lease again: its own, taken back ({@code lost} false: the runs record what
     * they kept), or a new one ({@code lost}: what the old one held is another node's to end).
     * Executions start here again.
     */
    void unfence(boolean lost) {
        if (lost) {
            leases.incrementAndGet();
        }
        admission.fenced(false);
        dispatch();
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

    /**
     * Stops admitting and starting, ends waiting requests, lets running executions finish for up
     * to {@code grace}, then terminates the rest (recording why) and waits for them to end.
     * Queued ones stay queued for the next start.
     */
    void shutdown(Duration grace) {
        admission.close();
        // A round that began before: what it claimed goes back to the queue (no slot is free).
        // Bounded: a round stuck on a store that does not answer leaves its rows to recovery.
        try {
            if (round.tryLock(10, TimeUnit.SECONDS)) {
                round.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
}
