package overseer.store;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One webhook delivery: an event of an execution, to one hook. {@code id} is the Standard
 * Webhooks {@code webhook-id}, the same for every attempt. {@code secretVariable} names the
 * server environment variable that holds the signing secret; the secret itself is never stored.
 */
public record Delivery(
        String id,
        String job,
        long number,
        long seq,
        String event,
        String hookKey,
        String url,
        Optional<String> secretVariable,
        String payload,
        State state,
        int attempts,
        OptionalInt lastStatus,
        Optional<String> lastError,
        Optional<Instant> nextAttemptAt,
        Instant createdAt,
        Instant expiresAt,
        Optional<Instant> finishedAt) {

    public enum State {
        /** Not sent yet, or sent and to be tried again at {@code nextAttemptAt}. */
        PENDING,
        /** The receiver answered 2xx. */
        DELIVERED,
        /** The receiver answered 410 Gone: never sent again unless someone asks. */
        FAILED,
        /** Still failing when its retry window ended. */
        EXPIRED;

        public String column() {
            return name().toLowerCase(Locale.ROOT);
        }

        static State ofColumn(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /** What a new event asks the store to send. */
    public record New(
            String id,
            String hookKey,
            String url,
            Optional<String> secretVariable,
            String payload,
            Instant expiresAt) {}

    /** How one attempt went: the state it leaves, the receiver's status or the error, and when to try again. */
    public record Attempt(
            State state, OptionalInt status, Optional<String> error, Optional<Instant> nextAttempt, Instant at) {}
}
