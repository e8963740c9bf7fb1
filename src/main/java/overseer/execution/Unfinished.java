package overseer.execution;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import overseer.config.CheckoutLease;
import overseer.store.Execution;
import overseer.store.ExecutionState;

/**
 * An execution the engine holds from its admission until it is DONE or CANCELLED, with its one
 * state. The state changes only under {@link #lock}, together with the store write that records
 * it (see {@link Lifecycle}), so a signal, an event and the end of the process are ordered.
 */
final class Unfinished {
    private final Execution execution;
    private final LaunchSpec spec;
    private final CheckoutLease lease;
    private final String token;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final CompletableFuture<Void> leftStarting = new CompletableFuture<>();

    /** Held across one state change and its store write; never while waiting for the process. */
    final ReentrantLock lock = new ReentrantLock();

    private ExecutionState state;
    private long processGroup;
    private final List<String> pendingSignals = new ArrayList<>();
    /** A {@code terminate} or {@code kill} was given: such an end is never retried. */
    private boolean endRequested;
    /** Events it was given (custom ones and signals) while this server held it (under {@link #lock}). */
    private int events;
    /** Why the retry its end calls for was not queued; set before the end is recorded, with it. */
    private volatile java.util.Optional<overseer.store.Execution.RetryError> retryError = java.util.Optional.empty();
    /** When its process started (or it was found to have none), for the duration metric. */
    private java.time.Instant startedAt;

    Unfinished(Execution execution, LaunchSpec spec, CheckoutLease lease, String token) {
        this.execution = execution;
        this.spec = spec;
        this.lease = lease;
        this.token = token;
        this.state = execution.state();
    }

    Execution execution() {
        return execution;
    }

    String job() {
        return execution.job();
    }

    long number() {
        return execution.number();
    }

    String key() {
        return execution.job() + "/" + execution.number();
    }

    int priority() {
        return execution.priority();
    }

    Instant createdAt() {
        return execution.createdAt();
    }

    String runId() {
        return execution.runId();
    }

    LaunchSpec spec() {
        return spec;
    }

    CheckoutLease lease() {
        return lease;
    }

    String token() {
        return token;
    }

    /** Completes once the execution is DONE or CANCELLED. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    ExecutionState state() {
        requireLocked();
        return state;
    }

    /** Moves to {@code to}; only {@link Lifecycle} calls this, after the store recorded it. */
    void moveTo(ExecutionState to) {
        requireLocked();
        if (!state.canMoveTo(to)) {
            throw new IllegalStateException("execution " + key() + " cannot move from " + state + " to " + to);
        }
        if (state == ExecutionState.STARTING) {
            leftStarting.complete(null);
        }
        state = to;
    }

    /** Completes when it leaves STARTING: its start (or its end without one) is recorded. */
    CompletableFuture<Void> leftStarting() {
        return leftStarting;
    }

    /** The process group id; set once RUNNING, 0 before and when nothing was started. */
    long processGroup() {
        requireLocked();
        return processGroup;
    }

    void processGroup(long pgid) {
        requireLocked();
        processGroup = pgid;
    }

    /** Signals that arrived while STARTING, to be sent as soon as the process group exists. */
    List<String> pendingSignals() {
        requireLocked();
        return pendingSignals;
    }

    private void requireLocked() {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("execution " + key() + ": state read or changed without its lock");
        }
    }

    /** Under {@link #lock}. */
    void requestEnd() {
        endRequested = true;
    }

    boolean endRequested() {
        return endRequested;
    }

    int events() {
        return events;
    }

    void countEvent() {
        events++;
    }

    java.time.Instant startedAt() {
        return startedAt;
    }

    void startedAt(java.time.Instant at) {
        startedAt = at;
    }

    java.util.Optional<overseer.store.Execution.RetryError> retryError() {
        return retryError;
    }

    void retryError(overseer.store.Execution.RetryError error) {
        retryError = java.util.Optional.of(error);
    }
}
