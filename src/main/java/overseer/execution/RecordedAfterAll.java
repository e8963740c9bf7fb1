package overseer.execution;

import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.store.DiskFull;
import overseer.store.Execution;
import overseer.store.ExecutionQuery;
import overseer.store.NewExecution;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * The execution a failed store call created after all. A commit whose connection broke before
 * the answer to it came (PostgreSQL) may have been made: then its row is there, and must be run,
 * not answered as failed while nothing holds it until the next start.
 */
final class RecordedAfterAll {
    /** How many of a job's newest executions are looked through for it. */
    private static final int LOOK_BACK = 50;

    private static final Logger log = LoggerFactory.getLogger(RecordedAfterAll.class);

    private RecordedAfterAll() {}

    /**
     * The execution {@code e} stored, found by its run id among its job's newest; empty when the
     * failure says nothing was stored (not a store failure, a full disk), when it is not there,
     * or when it cannot be read.
     */
    static Optional<Execution> find(Store store, NewExecution e, RuntimeException failure) {
        if (!(failure instanceof StoreException) || failure instanceof DiskFull) {
            return Optional.empty();
        }
        try {
            Optional<Execution> made =
                    store
                            .executions(e.job(), new ExecutionQuery(OptionalLong.empty(), Optional.empty(), LOOK_BACK))
                            .stream()
                            .filter(x -> x.runId().equals(e.runId()))
                            .findFirst();
            made.ifPresent(x ->
                    log.warn("execution: {}/{} was recorded after all: {}", x.job(), x.number(), failure.getMessage()));
            return made;
        } catch (StoreException unreadable) {
            return Optional.empty();
        }
    }
}
