package overseer.store;

import java.time.Instant;
import java.util.Optional;

/** What a trigger asks the store to record; the store assigns the number. */
public record NewExecution(
        String job,
        String trigger,
        String commit,
        Instant createdAt,
        String paramsJson,
        String secretsJson,
        String rendered,
        int priority,
        Optional<Instant> scheduledAt,
        String runId,
        Optional<String> idempotencyKey) {}
