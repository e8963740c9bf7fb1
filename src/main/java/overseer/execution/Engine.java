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
 * The executions the server holds, from admission until they end: it queues them, starts them
 * when {@link Admission} allows (one virtual thread each, running an {@link ExecutionRun}), passes
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

    Engine(Executions.Settings settings, Store store, Launcher launcher, ProcessGroups groups, Clock clock) {
        this.settings = settings;
        this.launcher = launcher;
        this.groups = groups;
        this.clock = clock;
        this.lifecycle = new Lifecycle(store, groups, clock, settings.maxEvents(), settings.metrics());
        this.admission = new Admission(settings.maxConcurrent(), settings.maxQueued());
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
     * Queues a stored execution under the claim its trigger took, ends the executions it
     * supersedes ({@code overlap: replace}), and starts what fits. One stored STARTING (admitted
     * at once) starts now, unless shutdown began meanwhile: it then ends without a process.
     */
    void enqueue(Admission.Claim claim, Unfinished u, List<Admission.Claim> victims) {
        track(u, claim);
        if (!admission.admit(claim, u)) {
            supersede(u, "replaced by a later execution");
        }
        for (Admission.Claim victim : victims) {
            supersede(Admission.execution(victim), "replaced by execution " + u.number());
        }
        // The state its creation stored: STARTING when admitted at once.
        if (u.execution().state() != ExecutionState.STARTING) {
            dispatch();
        } else if (admission.mayRun(claim)) {
            Thread.ofVirtual().name("execution-" + u.key()).start(() -> run(u));
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
        u.execution().notBefore().ifPresent(this::dispatchAt);
    }

    /** Looks for startable executions again at {@code when}, when a pending retry becomes due. */
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

    /** Starts queued executions while there are free slots, best priority and oldest first. */
    void dispatch() {
        for (Admission.Claim c : admission.startable(clock.instant())) {
            Unfinished u = Admission.execution(c);
            Thread.ofVirtual().name("execution-" + u.key()).start(() -> run(u));
        }
    }

    private void run(Unfinished u) {
        // What this thread logs is about this execution: JSON log lines carry it.
        MDC.put("job", u.job());
        MDC.put("execution", Long.toString(u.number()));
        boolean deferred = false;
        try {
            deferred = new ExecutionRun(u, lifecycle, launcher, groups, settings, clock, closing::isDone, ending).run()
                    == ExecutionRun.Ran.DEFERRED;
        } catch (RuntimeException e) {
            log.error("execution: {} failed in the runner: {}", u.key(), e.toString(), e);
            lifecycle.finish(
                    u,
                    OptionalInt.empty(),
                    Event.of("fail", "overseer failed to run it: " + e.getMessage(), clock.instant(), "overseer"),
                    closing::isDone);
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
