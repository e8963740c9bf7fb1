package overseer.store;

import java.util.Optional;
import java.util.OptionalLong;

/** A page of a job's executions, newest first: those numbered below {@code before}, of one status. */
public record ExecutionQuery(OptionalLong before, Optional<String> status, int limit) {}
