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
        Origin origin,
        java.util.function.LongFunction<Prepared> prepare) {
    /**
     * Where an execution comes from: the schedule that fired it (with {@code scheduledAt}, the fire
     * it is; the store keeps that pair unique per job), or the first execution of the chain it
     * retries and the time before which it must not start; and who triggered it (the label of the
     * caller's token).
     */
    public record Origin(
            Optional<String> scheduleId,
            java.util.OptionalLong retryOf,
            Optional<Instant> notBefore,
            Optional<String> triggeredBy) {
        public static final Origin NONE =
                new Origin(Optional.empty(), java.util.OptionalLong.empty(), Optional.empty(), Optional.empty());

        public static Origin schedule(String id) {
            return new Origin(Optional.of(id), java.util.OptionalLong.empty(), Optional.empty(), Optional.empty());
        }

        public static Origin retry(long of, Instant notBefore) {
            return new Origin(
                    Optional.empty(), java.util.OptionalLong.of(of), Optional.of(notBefore), Optional.empty());
        }

        /** The same, recording who triggered it. */
        public Origin by(Optional<String> caller) {
            return new Origin(scheduleId, retryOf, notBefore, caller);
        }
    }

    /**
     * The parts of an execution that are rendered with its number, its job's concurrency
     * (empty: no limit), which the queue's claim counts against, and the labels a node must have
     * to claim it (its job's {@code nodes}).
     */
    public record Prepared(
            String rendered, String launchJson, java.util.OptionalInt concurrency, java.util.List<String> needs) {
        public Prepared {
            needs = java.util.List.copyOf(needs);
        }

        /** Of a job without a concurrency limit. */
        public Prepared(String rendered, String launchJson) {
            this(rendered, launchJson, java.util.OptionalInt.empty(), java.util.List.of());
        }
    }
}
