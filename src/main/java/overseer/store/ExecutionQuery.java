package overseer.store;

import java.util.Optional;
import java.util.OptionalLong;

/** A page of a job's executions, newest first: those numbered below {@code before}, of one status, state and trigger. */
public record ExecutionQuery(
        OptionalLong before, Optional<String> status, Optional<RunState> state, Optional<String> trigger, int limit) {
    public ExecutionQuery(OptionalLong before, Optional<String> status, Optional<String> trigger, int limit) {
        this(before, status, Optional.empty(), trigger, limit);
    }

    public ExecutionQuery(OptionalLong before, Optional<String> status, int limit) {
        this(before, status, Optional.empty(), Optional.empty(), limit);
    }
}
