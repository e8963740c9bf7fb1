package overseer.execution;

import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.process.ProcessGroups;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionState;
import overseer.store.Store;

/**
 * What a start does with the executions the previous server left unfinished. STARTING and RUNNING
 * ones are {@code lost}: whatever of them still runs is killed by its marker (a process that
 * removed its marker from its environment and left the process group escapes this; only a cgroup per
 * execution would catch it). QUEUED ones are handed back to be queued again.
 */
final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    /** Queues a stored QUEUED execution again; fails when its stored launch spec is unreadable. */
    @FunctionalInterface
    interface Requeue {
        void accept(Execution execution) throws com.fasterxml.jackson.core.JsonProcessingException;
    }

    private final Store store;
    private final ProcessGroups groups;
    private final Clock clock;

    Recovery(Store store, ProcessGroups groups, Clock clock) {
        this.store = store;
        this.groups = groups;
        this.clock = clock;
    }

    /**
     * Ends what no node holds and requeues what waits: STARTING and RUNNING executions held by no
     * node (left by a release before nodes, or by a store used without a node) are ended; those of a node are ended by the cluster
     * once its lease ran out ({@link #endOf}). QUEUED ones are handed to {@code requeue} when this
     * server is the only one on its store; on a shared store the queue's claim takes them.
     */
    void recover(Requeue requeue) {
        java.util.Set<String> nodes = new java.util.HashSet<>();
        store.nodes().forEach(n -> nodes.add(n.id()));
        for (Execution e : store.unfinished()) {
            switch (e.state()) {
                case STARTING, RUNNING -> {
                    // A node with no row (a store used without registering, as tools do) holds nothing.
                    if (e.node().isEmpty() || !nodes.contains(e.node().get())) {
                        endUnheld(
                                e,
                                "the server stopped while it " + (e.startedAt().isPresent() ? "ran" : "was starting"));
                    }
                }
                case QUEUED -> {
                    if (store.clustered()) {
                        continue;
                    }
                    try {
                        requeue.accept(e);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                        store.cancelled(
                                e.job(),
                                e.number(),
                                event("fail", "cannot read its stored launch spec: " + ex.getOriginalMessage()));
                    }
                }
                case ENDING, DONE, CANCELLED ->
                    throw new IllegalStateException(
                            "store listed " + e.job() + "/" + e.number() + " as unfinished in state " + e.state());
            }
        }
    }

    /**
     * Ends a STARTING or RUNNING execution that no run of this server holds, as {@link #endOf}
     * says. Whatever of it still runs here is killed by its marker.
     */
    void endUnheld(Execution e, String cause) {
        int killed = groups.killMarked(e.runId());
        Event last = endOf(e, cause + (killed > 0 ? "; killed " + killed + " leftover process(es)" : ""));
        store.endUnheld(e, last);
        logEnd(e, last);
    }

    /**
     * How an execution that nothing runs any more ends: a kill kept while it was starting is
     * applied, once, as the run would have before the spawn ({@code fail}, cancelled); otherwise
     * it is {@code lost} with {@code cause}.
     */
    Event endOf(Execution e, String cause) {
        java.util.Optional<String> ender = e.pendingSignals().stream()
                .filter(s -> s.equals("kill") || s.equals("terminate"))
                .findFirst();
        if (e.state() == ExecutionState.STARTING && ender.isPresent()) {
            return event("fail", "cancelled by '" + ender.get() + "' before it started");
        }
        return event("lost", cause);
    }

    /** Logs the end {@link #endOf} made. */
    static void logEnd(Execution e, Event last) {
        log.warn(
                "execution: {}/{} {}: {}",
                e.job(),
                e.number(),
                last.name(),
                last.cause().orElse(""));
    }

    private Event event(String name, String cause) {
        return Event.of(name, cause, clock.instant(), "overseer");
    }
}
