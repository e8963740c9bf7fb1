package overseer.store;

import java.time.Instant;
import java.util.Optional;

/**
 * What a trigger asks the store to record. The store assigns the number; the rendered command
 * and launch spec, which depend on it, come from {@code prepare}, called inside the transaction.
 */
public record NewExecution(
        String job,
        String trigger,
        String commit,
        Instant createdAt,
        String paramsJson,
        String secretsJson,
        int priority,
        Optional<Instant> scheduledAt,
        String runId,
        Optional<String> idempotencyKey,
        java.util.function.LongFunction<Prepared> prepare) {
    /** The parts of an execution that are rendered with its number. */
    public record Prepared(String rendered, String launchJson) {}
}
