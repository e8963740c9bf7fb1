package overseer.store;

import java.util.List;
import java.util.UUID;

/**
 * The node a store writes as. Every write about work a node holds (a start, an event, an end, a
 * delivery's outcome) names it in its WHERE clause, so that a write about work another node holds
 * now, or about work this node lost, changes nothing. On a database several servers share, the
 * clause also checks that the node's lease is live on the database's clock: a node frozen past
 * its lease writes nothing when it resumes, even before another node noticed.
 */
final class Holder {
    private final Dialect dialect;
    /** Until registration, a name no node row has: a store used without a node (tests, tools) holds what it claims. */
    private volatile String node = "unregistered-" + UUID.randomUUID();

    private volatile boolean leased;
    /** The node fenced itself: it writes nothing about held work until it renews or registers again. */
    private volatile boolean fenced;

    private volatile List<String> labels = List.of();

    Holder(Dialect dialect) {
        this.dialect = dialect;
    }

    String node() {
        return node;
    }

    /** From now on writes are made as {@code id}; on a shared database they check its lease. */
    void become(String id, List<String> labels) {
        this.labels = List.copyOf(labels);
        node = id;
        leased = dialect.shared();
        fenced = false;
    }

    void fenced(boolean fenced) {
        this.fenced = fenced;
    }

    /** The labels of the node: it claims only executions whose job asks for no other. */
    List<String> labels() {
        return labels;
    }

    /** The node's lease is live: empty, or an {@code AND EXISTS} with one parameter (the node). */
    String lease() {
        if (fenced) {
            throw new StoreException(
                    "store: node " + node + " is fenced: it records nothing about the work it"
                            + " holds until it has its lease again",
                    null);
        }
        return leased
                ? " AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = ? AND n.state = 'live' AND n.lease_until > "
                        + dialect.now() + ")"
                : "";
    }

    List<Object> leaseArgs() {
        return leased ? List.of(node) : List.of();
    }

    /** {@code column} names this node, and its lease is live. */
    String holds(String column) {
        return " AND " + column + " = ?" + lease();
    }

    List<Object> holdsArgs() {
        return leased ? List.of(node, node) : List.of(node);
    }
}
