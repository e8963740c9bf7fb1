package overseer.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A server process as its node row says, read at {@code readAt} on the database's clock: where
 * other nodes reach it, what it runs, its labels, its lease, and what it holds (executions
 * starting or running, webhook deliveries claimed).
 */
public record ClusterNode(
        String id,
        Optional<String> url,
        String version,
        List<String> labels,
        String host,
        Instant startedAt,
        Instant heartbeatAt,
        Instant leaseUntil,
        State state,
        Instant readAt,
        int running,
        int claimedDeliveries) {
    public ClusterNode {
        labels = List.copyOf(labels);
    }

    /** What became of a node, as the cluster sees it. */
    public enum State {
        /** Its lease is live. */
        LIVE,
        /** Its lease ran out and no node has ended its work yet: it must have fenced itself. */
        FENCED,
        /** Its lease ran out and another node ended what it held. */
        DEAD,
        /** It stopped cleanly, holding nothing. */
        STOPPED;

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How long ago its last heartbeat was written, on the database's clock. */
    public Duration heartbeatAge() {
        return Duration.between(heartbeatAt, readAt);
    }
}
