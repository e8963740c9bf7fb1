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

    /** Whether it has every one of {@code labels}. */
    public boolean has(List<String> labels) {
        return this.labels.containsAll(labels);
    }

    /**
     * Why an execution that asks a node for {@code labels} cannot start now: no live node among
     * {@code nodes} has them all. Empty when one has.
     */
    public static Optional<String> unplaced(List<ClusterNode> nodes, List<String> labels) {
        boolean placed = nodes.stream().anyMatch(n -> n.state() == State.LIVE && n.has(labels));
        return placed
                ? Optional.empty()
                : Optional.of(
                        "no live node has the label" + (labels.size() == 1 ? " " : "s ") + String.join(", ", labels));
    }

    /** How long ago its last heartbeat was written, on the database's clock. */
    public Duration heartbeatAge() {
        return Duration.between(heartbeatAt, readAt);
    }
}
