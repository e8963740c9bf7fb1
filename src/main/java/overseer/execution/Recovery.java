package overseer.execution;

import java.time.Clock;
import java.util.OptionalInt;
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

    void recover(Requeue requeue) {
        for (Execution e : store.unfinished()) {
            switch (e.state()) {
                case STARTING, RUNNING ->
                    endUnheld(e, "the server stopped while it " + (e.startedAt().isPresent() ? "ran" : "was starting"));
                case QUEUED -> {
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
     * Ends a STARTING or RUNNING execution that no run of this server holds: a kill kept while
     * it was starting is applied now, once, as the run would have before the spawn; otherwise it
     * is {@code lost} with {@code cause}. Whatever of it still runs is killed by its marker.
     */
    void endUnheld(Execution e, String cause) {
        java.util.Optional<String> ender = e.pendingSignals().stream()
                .filter(s -> s.equals("kill") || s.equals("terminate"))
                .findFirst();
        int killed = groups.killMarked(e.runId());
        String leftovers = killed > 0 ? "; killed " + killed + " leftover process(es)" : "";
        if (e.state() == ExecutionState.STARTING && ender.isPresent()) {
            store.finished(
                    e.job(),
                    e.number(),
                    e.state(),
                    OptionalInt.empty(),
                    event("fail", "cancelled by '" + ender.get() + "' before it started"));
            log.warn("execution: {}/{} cancelled by its pending '{}'{}", e.job(), e.number(), ender.get(), leftovers);
            return;
        }
        store.finished(e.job(), e.number(), e.state(), OptionalInt.empty(), event("lost", cause + leftovers));
        log.warn("execution: {}/{} lost: {}", e.job(), e.number(), cause + leftovers);
    }

    private Event event(String name, String cause) {
        return Event.of(name, cause, clock.instant(), "overseer");
    }
}
