package overseer.store;

import java.util.Optional;
import java.util.OptionalLong;

/** A page of a job's executions, newest first: those numbered below {@code before}, of one status and trigger. */
public record ExecutionQuery(OptionalLong before, Optional<String> status, Optional<String> trigger, int limit) {
    public ExecutionQuery(OptionalLong before, Optional<String> status, int limit) {
        this(before, status, Optional.empty(), limit);
    }
}
