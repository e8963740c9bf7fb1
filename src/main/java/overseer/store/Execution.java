package overseer.store;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One execution as stored. {@code paramsJson} is what the API shows (secret values as
 * {@code ***}); {@code secretsJson} holds the secret values themselves, which a queued or repeated
 * run needs until it ends and which no route returns. {@code scheduleId} names the schedule
 * that fired it, {@code retryOf} the first execution of the retry chain it belongs to, and
 * {@code notBefore} when a pending retry may start. {@code pendingSignals} are the signals given
 * while it was STARTING, kept until its start or end applies them; {@code retryError} says why the
 * retry its end called for could not be queued. {@code runState} is what became of it, beside
 * {@code status}, its latest event. {@code node}: the node that holds it while it is starting or
 * running (and ran it, once it ended); {@code needs}: the labels a node must have to claim it.
 */
public record Execution(
        String job,
        long number,
        String status,
        String trigger,
        String commit,
        Instant createdAt,
        Optional<Instant> startedAt,
        Optional<Instant> finishedAt,
        OptionalInt exitCode,
        String paramsJson,
        String secretsJson,
        String rendered,
        String launchJson,
        int priority,
        Optional<Instant> scheduledAt,
        OptionalLong pid,
        String runId,
        ExecutionState state,
        Optional<String> scheduleId,
        OptionalLong retryOf,
        Optional<Instant> notBefore,
        Optional<String> triggeredBy,
        java.util.List<String> pendingSignals,
        Optional<RetryError> retryError,
        RunState runState,
        Optional<String> node,
        java.util.List<String> needs) {
    /** Why a retry of this execution was not queued, and when that was found. */
    public record RetryError(String cause, Instant at) {}

    public boolean finished() {
        return state.terminal();
    }
}
