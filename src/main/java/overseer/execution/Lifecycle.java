package overseer.execution;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.process.Launcher;
import overseer.process.ProcessGroups;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionState;
import overseer.store.StaleState;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * The one place where an execution changes state. Each change takes the execution's lock, checks
 * the state it starts from, writes the change to the store (which checks it again, against the
 * row) and only then moves the execution in memory. Events and signals go through here too, so
 * none can land after the final event.
 */
final class Lifecycle {
    private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
    static final Map<String, Integer> SIGNALS = Map.of(
            "stop", ProcessGroups.SIGSTOP,
            "continue", ProcessGroups.SIGCONT,
            "terminate", ProcessGroups.SIGTERM,
            "kill", ProcessGroups.SIGKILL);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final Store store;
    private final ProcessGroups groups;
    private final Clock clock;
    /**
     * Events one execution may be given, signals included; a job looping on {@code event} (or on
     * {@code event continue}, or on {@code event terminate} with TERM trapped) must not fill the disk.
     */
    private final int maxEvents;

    private final overseer.metrics.Metrics metrics;

    Lifecycle(Store store, ProcessGroups groups, Clock clock) {
        this(store, groups, clock, 10_000);
    }

    Lifecycle(Store store, ProcessGroups groups, Clock clock, int maxEvents) {
        this(store, groups, clock, maxEvents, overseer.metrics.Metrics.none());
    }

    Lifecycle(Store store, ProcessGroups groups, Clock clock, int maxEvents, overseer.metrics.Metrics metrics) {
        this.store = store;
        this.groups = groups;
        this.clock = clock;
        this.maxEvents = maxEvents;
        this.metrics = metrics;
    }

    /** What became of a request to spawn a STARTING execution's process. */
    sealed interface Spawn {
        /** RUNNING: the process is there, in its own process group. */
        record Running(Launcher.Process process) implements Spawn {}

        /** DONE without a process: a signal cancelled it, or it could not be started. */
        record NotStarted() implements Spawn {}
    }

    @FunctionalInterface
    interface Spawner {
        Launcher.Process spawn() throws java.io.IOException;
    }

    /** What became of a queued execution's move to STARTING. */
    enum Start {
        STARTING,
        /** It left QUEUED meanwhile (a signal cancelled it). */
        LEFT_QUEUE,
        /** The store could not record it (the database is away): it is still QUEUED, to start later. */
        NOT_RECORDED
    }

    /** QUEUED → STARTING, recorded before anything is spawned (unless its creation recorded it). */
    Start starting(Unfinished u) {
        u.lock.lock();
        try {
            if (u.state() == ExecutionState.STARTING) {
                // Admitted at once: the commit that created it recorded it STARTING.
                return Start.STARTING;
            }
            if (u.state() != ExecutionState.QUEUED) {
                return Start.LEFT_QUEUE;
            }
            try {
                store.starting(u.job(), u.number());
            } catch (StoreException e) {
                // A commit whose connection broke may have been made: the row says which. Found
                // STARTING (by this attempt, or by one reported as failed before), it is ours to
                // start; still QUEUED, or the row unreadable, it waits for the next attempt.
                if (recordedStarting(u)) {
                    log.warn("execution: {} start was recorded after all: {}", u.key(), e.getMessage());
                } else if (e instanceof StaleState) {
                    throw e;
                } else {
                    log.warn("execution: {} not started, the store cannot record it: {}", u.key(), e.getMessage());
                    return Start.NOT_RECORDED;
                }
            }
            u.moveTo(ExecutionState.STARTING);
            return Start.STARTING;
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * STARTING → QUEUED for an execution admitted at once whose run never began (shutdown came
     * first): nothing was spawned, so the next start runs it as it runs what was queued.
     */
    void backToQueue(Unfinished u) {
        u.lock.lock();
        try {
            if (u.state() != ExecutionState.STARTING) {
                return;
            }
            Optional<String> ender = pendingEnder(u);
            if (ender.isPresent()) {
                // A kill kept while it was starting ends it, as its spawn would have.
                finishLocked(
                        u, OptionalInt.empty(), event("fail", "cancelled by '" + ender.get() + "' before it started"));
                return;
            }
            store.backToQueue(u.job(), u.number());
            u.moveTo(ExecutionState.QUEUED);
        } finally {
            u.lock.unlock();
        }
    }

    /** A {@code kill} or {@code terminate} kept while {@code u} was starting; under its lock. */
    private static Optional<String> pendingEnder(Unfinished u) {
        return u.pendingSignals().stream()
                .filter(s -> s.equals("kill") || s.equals("terminate"))
                .findFirst();
    }

    /**
     * Whether {@code u}'s row, read back after a write to it was reported as failed, shows that
     * write: a commit whose connection broke before its answer came may have been made. False
     * when the row does not show it or cannot be read.
     */
    private boolean rowShows(Unfinished u, java.util.function.Predicate<Execution> write) {
        try {
            return store.execution(u.job(), u.number()).filter(write).isPresent();
        } catch (StoreException unreadable) {
            return false;
        }
    }

    /** Whether the store has {@code u} RUNNING in {@code processGroup}, although the write was reported as failed. */
    private boolean recordedRunning(Unfinished u, long processGroup) {
        return rowShows(
                u,
                e -> e.state() == ExecutionState.RUNNING
                        && e.pid().isPresent()
                        && e.pid().getAsLong() == processGroup);
    }

    /** Whether the store has {@code u} STARTING, although the write that made it so was reported as failed. */
    private boolean recordedStarting(Unfinished u) {
        return rowShows(u, e -> e.state() == ExecutionState.STARTING);
    }

    /**
     * STARTING → RUNNING. A {@code kill} or {@code terminate} that came before cancels the spawn.
     * The spawn and the commit of {@code start} (an fsync) run outside the lock, so that readers
     * and signals do not wait for them: a signal meanwhile finds the execution STARTING and stays
     * pending, and is sent as soon as the process group is recorded. Only this execution's run
     * moves it on from STARTING, so nothing else changes it meanwhile.
     */
    Spawn spawn(Unfinished u, Spawner spawner) {
        u.lock.lock();
        try {
            Optional<String> ender = pendingEnder(u);
            if (ender.isPresent()) {
                finishLocked(
                        u, OptionalInt.empty(), event("fail", "cancelled by '" + ender.get() + "' before it started"));
                return new Spawn.NotStarted();
            }
        } finally {
            u.lock.unlock();
        }
        Launcher.Process process;
        try {
            process = spawner.spawn();
        } catch (java.io.IOException e) {
            notStarted(u, e.getMessage());
            return new Spawn.NotStarted();
        }
        try {
            store.started(u.job(), u.number(), process.pid(), event("start", null));
        } catch (StoreException e) {
            // A commit whose connection broke may have been made: found RUNNING with this
            // process group, it is recorded and runs on. Unrecorded, it must not run: the row
            // stays STARTING until the failure is recorded.
            if (recordedRunning(u, process.pid())) {
                log.warn("execution: {} start was recorded after all: {}", u.key(), e.getMessage());
            } else {
                groups.killAll(process.pid(), u.runId());
                process.closeStreams();
                log.error("execution: {} killed: its start cannot be recorded: {}", u.key(), e.getMessage());
                throw e;
            }
        }
        u.lock.lock();
        try {
            u.moveTo(ExecutionState.RUNNING);
            u.processGroup(process.pid());
            started(u);
            for (String pending : u.pendingSignals()) {
                send(u, pending);
            }
            u.pendingSignals().clear();
        } finally {
            u.lock.unlock();
        }
        return new Spawn.Running(process);
    }

    /** STARTING → DONE for an execution whose preparation failed: {@code start}, then {@code fail}. */
    void notStarted(Unfinished u, String cause) {
        u.lock.lock();
        try {
            notStartedLocked(u, cause);
        } finally {
            u.lock.unlock();
        }
    }

    /** STARTING → DONE for a job with nothing to run: {@code start}, then {@code complete}. */
    void nothingToRun(Unfinished u) {
        u.lock.lock();
        try {
            store.started(u.job(), u.number(), 0, event("start", null));
            u.moveTo(ExecutionState.RUNNING);
            started(u);
            finishLocked(u, OptionalInt.of(0), event("complete", "nothing to run"));
        } finally {
            u.lock.unlock();
        }
    }

    private void notStartedLocked(Unfinished u, String cause) {
        store.started(u.job(), u.number(), 0, event("start", null));
        u.moveTo(ExecutionState.RUNNING);
        started(u);
        finishLocked(u, OptionalInt.empty(), event("fail", cause));
    }

    /** RUNNING → ENDING: the process exited; signals are refused from now on. */
    void ending(Unfinished u) {
        u.lock.lock();
        try {
            u.moveTo(ExecutionState.ENDING);
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * → DONE with the final event. A store that cannot write (a full disk) is retried with backoff
     * until it can, or until {@code giveUp} says to stop (shutdown): the row then stays unfinished
     * and the next start marks it {@code lost}. Meanwhile {@code /ready} reports the failure.
     */
    void finish(Unfinished u, OptionalInt exitCode, Event last, java.util.function.BooleanSupplier giveUp) {
        Duration backoff = Duration.ofMillis(100);
        while (true) {
            u.lock.lock();
            try {
                if (u.state().terminal()) {
                    log.warn("execution: {} has ended already; not recording '{}'", u.key(), last.name());
                    return;
                }
                finishLocked(u, exitCode, last);
                return;
            } catch (StoreException e) {
                // A commit whose connection broke may have been made: the row says which. Found
                // ended with this very event, by this attempt or by one reported as failed
                // before, it is recorded, and a retry would only find the row done.
                if (recordedEnd(u, last)) {
                    log.warn("execution: {} end was recorded after all: {}", u.key(), e.getMessage());
                    endedLocked(u, last);
                    return;
                }
                if (e instanceof StaleState) {
                    throw e;
                }
                log.error(
                        "execution: {} end not recorded, retrying in {} ms: {}",
                        u.key(),
                        backoff.toMillis(),
                        e.getMessage());
            } finally {
                u.lock.unlock();
            }
            if (giveUp.getAsBoolean()) {
                log.error("execution: {} end left unrecorded at shutdown; the next start marks it lost", u.key());
                return;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** The final event: DONE, or CANCELLED for one that never left the queue (its start could not be recorded). */
    private void finishLocked(Unfinished u, OptionalInt exitCode, Event last) {
        if (u.state() == ExecutionState.QUEUED) {
            store.cancelled(u.job(), u.number(), last);
            u.moveTo(ExecutionState.CANCELLED);
            metrics.executionFinished(u.job(), last.name(), Optional.empty());
            return;
        }
        store.finished(u.job(), u.number(), u.state(), exitCode, last, u.retryError());
        endedLocked(u, last);
    }

    /** What follows the record of {@code last}, the end of an execution that had started. */
    private void endedLocked(Unfinished u, Event last) {
        u.moveTo(ExecutionState.DONE);
        metrics.executionFinished(
                u.job(), last.name(), Optional.ofNullable(u.startedAt()).map(s -> Duration.between(s, last.at())));
    }

    /**
     * Whether the row of {@code u}, which had started, is DONE with {@code last} as its final
     * event (name and time); false when it is not or cannot be read.
     */
    private boolean recordedEnd(Unfinished u, Event last) {
        return u.state() != ExecutionState.QUEUED
                && rowShows(
                        u,
                        e -> e.state() == ExecutionState.DONE
                                && e.status().equals(last.name())
                                && e.finishedAt()
                                        .filter(at ->
                                                at.toEpochMilli() == last.at().toEpochMilli())
                                        .isPresent());
    }

    private void started(Unfinished u) {
        u.startedAt(clock.instant());
        metrics.executionStarted(u.job());
    }

    /**
     * Records {@code signal} and acts on it: a QUEUED execution is cancelled ({@code kill},
     * {@code terminate}), a STARTING one gets it as soon as its process exists, a RUNNING one at
     * once. Returns whether the execution was cancelled (and so has ended).
     */
    boolean signal(Unfinished u, String signal, Optional<String> cause, String source) throws Refused {
        u.lock.lock();
        try {
            ExecutionState state = u.state();
            Event given = new Event(signal, cause, clock.instant(), source);
            roomFor(u, given);
            boolean ends = signal.equals("terminate") || signal.equals("kill");
            // Each case is one store write guarded on the state: the signal is recorded together
            // with what it does, or not at all (and then not acknowledged).
            switch (state) {
                case QUEUED -> {
                    if (!ends) {
                        throw new Refused(
                                Refused.Reason.NOT_RUNNING, "execution " + u.key() + " is queued, not running");
                    }
                    Event fail = event("fail", "cancelled by '" + signal + "' before it started");
                    try {
                        recordCancel(u, () -> store.cancelled(u.job(), u.number(), given, fail));
                    } catch (StaleState moved) {
                        if (!claimedMeanwhile(u)) {
                            throw moved;
                        }
                        return keepForStart(u, signal, given);
                    }
                    u.requestEnd();
                    u.moveTo(ExecutionState.CANCELLED);
                    metrics.executionFinished(u.job(), "fail", Optional.empty());
                    return true;
                }
                case STARTING -> {
                    return keepForStart(u, signal, given);
                }
                case RUNNING -> {
                    record(u, given);
                    if (ends) {
                        u.requestEnd();
                    }
                    send(u, signal);
                    return false;
                }
                case ENDING, DONE, CANCELLED -> throw finished(u, state);
            }
            throw new IllegalStateException("unreachable");
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * Sends a signal that another node recorded already (its event is written): to the process
     * when it runs, or kept for its start when it is starting.
     */
    void applyRecorded(Unfinished u, String signal) {
        u.lock.lock();
        try {
            boolean ends = signal.equals("terminate") || signal.equals("kill");
            switch (u.state()) {
                case STARTING -> {
                    if (ends) {
                        u.requestEnd();
                    }
                    u.pendingSignals().add(signal);
                }
                case RUNNING -> {
                    if (ends) {
                        u.requestEnd();
                    }
                    send(u, signal);
                }
                default -> {}
            }
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * A signal to a STARTING execution is kept in its row too: its start applies it, or a restart
     * that finds it starting. Under its lock; false: it did not end it (yet).
     */
    private boolean keepForStart(Unfinished u, String signal, Event given) {
        recordWith(u, given, () -> {
            store.signalPending(u.job(), u.number(), given);
            return true;
        });
        u.countEvent();
        if (signal.equals("terminate") || signal.equals("kill")) {
            u.requestEnd();
        }
        u.pendingSignals().add(signal);
        return false;
    }

    /**
     * After a write against QUEUED found the row in another state: whether the queue's claim
     * took it meanwhile (the row is STARTING; the claim moves it here only after its commit), in
     * which case it is STARTING here from now on. Under its lock.
     */
    private boolean claimedMeanwhile(Unfinished u) {
        if (!rowShows(u, x -> x.state() == ExecutionState.STARTING)) {
            return false;
        }
        u.moveTo(ExecutionState.STARTING);
        return true;
    }

    /** What became of a queued execution that the store's queue claim made STARTING. */
    enum Claimed {
        /** STARTING here too: it starts. */
        TAKEN,
        /** Given back (QUEUED again in the store): no slot here for it now. */
        GIVEN_BACK,
        /** Ended before it started: refused a slot (shutdown began) with a kill kept for its start. */
        ENDED,
        /** Neither queued nor starting here: it cannot be (a cancel would have found the row claimed). */
        GONE
    }

    /**
     * Settles a claim of {@code u}'s row under its lock, so that no signal moves it meanwhile:
     * nothing when it is not {@code waiting} for a slot here; when {@code slot} (told whether a signal already found it claimed and kept itself in the
     * row, so that it must start) grants it a running slot, it is STARTING here too; otherwise
     * the row goes back to QUEUED. Throws when that give-back cannot be written: the row stays
     * STARTING for a later look.
     */
    Claimed claimed(
            Unfinished u, java.util.function.BooleanSupplier waiting, java.util.function.Predicate<Boolean> slot) {
        u.lock.lock();
        try {
            if (!waiting.getAsBoolean()) {
                // It holds a slot already (or was released): the claim is not about it.
                return Claimed.GONE;
            }
            boolean signalled = u.state() == ExecutionState.STARTING;
            if (!signalled && u.state() != ExecutionState.QUEUED) {
                return Claimed.GONE;
            }
            if (!slot.test(signalled)) {
                Optional<String> ender = signalled ? pendingEnder(u) : Optional.empty();
                if (ender.isPresent()) {
                    // Giving it back would drop the kill it was acknowledged with: it ends now.
                    finishLocked(
                            u,
                            OptionalInt.empty(),
                            event("fail", "cancelled by '" + ender.get() + "' before it started"));
                    return Claimed.ENDED;
                }
                store.backToQueue(u.job(), u.number());
                if (signalled) {
                    u.moveTo(ExecutionState.QUEUED);
                }
                return Claimed.GIVEN_BACK;
            }
            if (!signalled) {
                u.moveTo(ExecutionState.STARTING);
            }
            return Claimed.TAKEN;
        } finally {
            u.lock.unlock();
        }
    }

    /** Ends a claimed row that cannot be run (its launch spec is unreadable); nothing here held it. */
    void notStartable(Execution e, String cause) {
        try {
            store.finished(e.job(), e.number(), ExecutionState.STARTING, OptionalInt.empty(), event("fail", cause));
        } catch (StoreException failed) {
            // Left STARTING: the next start records it lost.
            log.warn("execution: {}/{} not ended: {}", e.job(), e.number(), failed.getMessage());
        }
    }

    /**
     * QUEUED → CANCELLED here, for an execution whose row a later trigger's transaction cancelled
     * (with its {@code kill} and {@code fail}) to make room for it; false when it is not queued
     * here (then it was not that row's state either, and nothing changes).
     */
    boolean cancelledInStore(Unfinished u) {
        u.lock.lock();
        try {
            if (u.state() != ExecutionState.QUEUED) {
                return false;
            }
            u.countEvent();
            u.countEvent();
            u.requestEnd();
            u.moveTo(ExecutionState.CANCELLED);
            metrics.executionFinished(u.job(), "fail", Optional.empty());
            return true;
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * A queued execution this server stored that another node claimed: this server lets go of
     * it (its end is that node's to record). False when it is no longer queued here.
     */
    boolean takenElsewhere(Unfinished u) {
        u.lock.lock();
        try {
            if (u.state() != ExecutionState.QUEUED) {
                return false;
            }
            u.requestEnd();
            u.moveTo(ExecutionState.CANCELLED);
            return true;
        } finally {
            u.lock.unlock();
        }
    }

    /** QUEUED → CANCELLED with {@code cause}; false when it is no longer queued. */
    boolean cancel(Unfinished u, String cause) {
        u.lock.lock();
        try {
            if (u.state() != ExecutionState.QUEUED) {
                return false;
            }
            Event fail = event("fail", cause);
            try {
                recordCancel(u, () -> store.cancelled(u.job(), u.number(), fail));
            } catch (StaleState moved) {
                if (claimedMeanwhile(u)) {
                    // The queue's claim came first: it starts.
                    return false;
                }
                throw moved;
            }
            u.moveTo(ExecutionState.CANCELLED);
            metrics.executionFinished(u.job(), "fail", Optional.empty());
            return true;
        } finally {
            u.lock.unlock();
        }
    }

    /**
     * Runs {@code cancel}, the store write that moves the QUEUED {@code u} to CANCELLED; under its
     * lock. A commit whose connection broke may have been made: a row found CANCELLED was moved by
     * it (nothing else moves a queued execution that this server holds), so it is recorded.
     */
    private void recordCancel(Unfinished u, Runnable cancel) {
        try {
            cancel.run();
        } catch (StoreException e) {
            if (!rowShows(u, x -> x.state() == ExecutionState.CANCELLED)) {
                throw e;
            }
            log.warn("execution: {} cancel was recorded after all: {}", u.key(), e.getMessage());
        }
    }

    /** How long a custom event waits for the start of its execution to be recorded. */
    private static final Duration START_RECORD_WAIT = Duration.ofSeconds(30);

    /**
     * Records a custom event on an execution that has not ended. The job's process runs before
     * its {@code start} is committed (the spawn and that commit are outside the lock): an event
     * it sends meanwhile waits for that record, so that it follows {@code start} in the events.
     */
    void event(Unfinished u, Event event) throws Refused {
        boolean waited = false;
        while (true) {
            u.lock.lock();
            try {
                if (u.state() != ExecutionState.STARTING || waited) {
                    if (u.state().terminal()) {
                        throw finished(u, u.state());
                    }
                    roomFor(u, event);
                    record(u, event);
                    return;
                }
            } finally {
                u.lock.unlock();
            }
            log.debug("execution: {} event '{}' waits for its start to be recorded", u.key(), event.name());
            try {
                u.leftStarting().get(START_RECORD_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // The start is still not recorded (the store is away): recorded anyway, not lost.
                waited = true;
            } catch (java.util.concurrent.ExecutionException e) {
                waited = true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Refused(
                        Refused.Reason.SHUTTING_DOWN, "interrupted while execution " + u.key() + " was starting");
            }
        }
    }

    /**
     * Refuses {@code event} once the execution has been given {@link #maxEvents}. A {@code kill}
     * still passes, so that a runaway job can be ended: it ends the run, so it cannot loop. So do
     * the server's own events (time-out, shutdown, output quota), a few per run, which an end needs.
     */
    private void roomFor(Unfinished u, Event event) throws Refused {
        if (u.events() >= maxEvents
                && !event.name().equals("kill")
                && !event.source().equals("overseer")) {
            throw new Refused(
                    Refused.Reason.TOO_MANY_EVENTS,
                    "execution " + u.key() + " has recorded " + maxEvents + " events, the most it may");
        }
    }

    /** Stores an event given while it runs, counting it against {@link #maxEvents}. */
    private void record(Unfinished u, Event event) throws Refused {
        if (!recordWith(u, event, () -> store.event(u.job(), u.number(), event))) {
            throw finished(u, ExecutionState.DONE);
        }
        u.countEvent();
    }

    /** Runs {@code write}, which records {@code event}; what it returns, or true when its commit was made after all. */
    private boolean recordWith(Unfinished u, Event event, java.util.function.BooleanSupplier write) {
        try {
            return write.getAsBoolean();
        } catch (StoreException e) {
            // A commit whose connection broke may have been made: found as the row's latest event,
            // it is recorded, and refusing it would have the job send it again, or leave a kill
            // recorded and never sent.
            if (!recordedEvent(u, event)) {
                throw e;
            }
            log.warn("execution: {} event '{}' was recorded after all: {}", u.key(), event.name(), e.getMessage());
            return true;
        }
    }

    /**
     * Whether {@code event} is the latest event of {@code u}'s row: its status, and the latest of
     * that name with the same cause, time and source. One identical event in the same millisecond
     * before it would pass too; under the lock, events of one execution are recorded one at a time.
     */
    private boolean recordedEvent(Unfinished u, Event event) {
        if (!rowShows(u, e -> e.status().equals(event.name()))) {
            return false;
        }
        try {
            return store.latestEvent(u.job(), u.number(), event.name())
                    .filter(e -> e.cause().equals(event.cause())
                            && e.source().equals(event.source())
                            && e.at().toEpochMilli() == event.at().toEpochMilli())
                    .isPresent();
        } catch (StoreException unreadable) {
            return false;
        }
    }

    private void send(Unfinished u, String signal) {
        long pgid = u.processGroup();
        switch (signal) {
            case "kill" -> groups.killAll(pgid, u.runId());
            case "terminate" -> {
                groups.signalAll(pgid, u.runId(), ProcessGroups.SIGTERM);
                // A stopped process acts on SIGTERM only once it runs again.
                groups.signalAll(pgid, u.runId(), ProcessGroups.SIGCONT);
            }
            default -> groups.signalAll(pgid, u.runId(), SIGNALS.get(signal));
        }
    }

    private static Refused finished(Unfinished u, ExecutionState state) {
        return new Refused(
                Refused.Reason.FINISHED,
                "execution " + u.key() + (state == ExecutionState.ENDING ? " is ending" : " has finished"));
    }

    private Event event(String name, String cause) {
        return Event.of(name, cause, clock.instant(), "overseer");
    }
}
