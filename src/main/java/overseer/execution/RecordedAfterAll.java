package overseer.execution;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
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
    /** How many more of a job's newest executions than it created are looked through (others' meanwhile). */
    private static final int LOOK_BACK = 50;

    private static final Logger log = LoggerFactory.getLogger(RecordedAfterAll.class);

    private RecordedAfterAll() {}

    /** As {@link #find(Store, List, RuntimeException)}, for one execution. */
    static Optional<Execution> find(Store store, NewExecution created, RuntimeException failure) {
        return Optional.ofNullable(find(store, List.of(created), failure).get(created.runId()));
    }

    /**
     * The executions of {@code created} that were stored, by run id, found among their jobs'
     * newest (one read per job, looking as far back as they are many, plus {@link #LOOK_BACK});
     * empty when the failure says nothing was stored (not a store failure, a full disk). Reading
     * stops at the first read that fails: the database is away, and each read would wait for it.
     */
    static Map<String, Execution> find(Store store, List<NewExecution> created, RuntimeException failure) {
        Map<String, Execution> made = new HashMap<>();
        if (!(failure instanceof StoreException) || failure instanceof DiskFull) {
            return made;
        }
        Map<String, Set<String>> runIdsByJob = new LinkedHashMap<>();
        for (NewExecution e : created) {
            runIdsByJob.computeIfAbsent(e.job(), j -> new HashSet<>()).add(e.runId());
        }
        for (Map.Entry<String, Set<String>> job : runIdsByJob.entrySet()) {
            List<Execution> newest;
            try {
                newest = store.executions(
                        job.getKey(),
                        new ExecutionQuery(
                                OptionalLong.empty(),
                                Optional.empty(),
                                job.getValue().size() + LOOK_BACK));
            } catch (StoreException unreadable) {
                break;
            }
            for (Execution x : newest) {
                if (job.getValue().contains(x.runId())) {
                    made.put(x.runId(), x);
                    log.warn("execution: {}/{} was recorded after all: {}", x.job(), x.number(), failure.getMessage());
                }
            }
        }
        return made;
    }
}
