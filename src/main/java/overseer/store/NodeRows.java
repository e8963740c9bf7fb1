package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The nodes table: each server's row, its heartbeat and lease on the database's clock, never the
 * servers' own clocks (which may disagree by more than a lease).
 */
final class NodeRows {
    private static final String COLUMNS =
            "n.id, n.url, n.version, n.labels, n.host, n.started_at, n.heartbeat_at, n.lease_until, n.state";

    private final Sql db;
    private final Dialect dialect;

    NodeRows(Sql db, Dialect dialect) {
        this.db = db;
        this.dialect = dialect;
    }

    void register(NodeRegistration node, long leaseMillis) throws SQLException {
        String now = dialect.now();
        db.update(
                "INSERT INTO nodes (id, url, version, labels, host, started_at, heartbeat_at, lease_until, state)"
                        + " VALUES (?, ?, ?, ?, ?, " + now + ", " + now + ", " + now + " + ?, 'live')",
                node.id(),
                node.url().orElse(null),
                node.version(),
                String.join(",", node.labels()),
                node.host(),
                leaseMillis);
    }

    /**
     * Extends the lease of {@code id} from now; false when it had run out already (or the node
     * was ended): a lease is never taken back once it ran out, since another node may be ending
     * the work it held.
     */
    boolean renew(String id, long leaseMillis) throws SQLException {
        String now = dialect.now();
        return db.count(
                        "UPDATE nodes SET heartbeat_at = " + now + ", lease_until = " + now + " + ? WHERE id = ?"
                                + " AND state = 'live' AND lease_until > " + now,
                        leaseMillis,
                        id)
                == 1;
    }

    /**
     * Takes the lease of {@code id} again after this node fenced itself, even when it ran out,
     * provided no node ended its work (the node is still {@code live}): then nothing it held went
     * to anyone else, and what it knows of that work is still its to record. The row lock orders
     * this against {@link #takeExpired}: whichever comes second finds the other's outcome.
     */
    boolean reclaim(String id, long leaseMillis) throws SQLException {
        String now = dialect.now();
        return db.count(
                        "UPDATE nodes SET heartbeat_at = " + now + ", lease_until = " + now + " + ? WHERE id = ?"
                                + " AND state = 'live'",
                        leaseMillis,
                        id)
                == 1;
    }

    /** Ends the lease of {@code id} now: stopped when it holds nothing, otherwise left for a node to end its work. */
    void leave(String id) throws SQLException {
        db.update(
                "UPDATE nodes SET lease_until = " + dialect.now() + ", state = CASE WHEN EXISTS (SELECT 1"
                        + " FROM executions e WHERE e.node_id = nodes.id AND e.state IN ('starting', 'running'))"
                        + " THEN state ELSE 'stopped' END WHERE id = ? AND state = 'live'",
                id);
    }

    /** Ends the lease of {@code id} now, whatever it holds: the predecessor of a server on the same data directory. */
    void expire(String id) throws SQLException {
        db.update("UPDATE nodes SET lease_until = " + dialect.now() + " WHERE id = ? AND state = 'live'", id);
    }

    List<ClusterNode> list() throws SQLException {
        return many("SELECT " + COLUMNS + ", " + dialect.now()
                + ", (SELECT COUNT(*) FROM executions e WHERE e.node_id = n.id AND e.state IN ('starting', 'running')),"
                + " (SELECT COUNT(*) FROM deliveries d WHERE d.state = 'pending' AND d.claimed_by = n.id)"
                + " FROM nodes n ORDER BY n.started_at, n.id");
    }

    /**
     * One node whose lease ran out and whose work no one ended yet, locked for this transaction:
     * another node ending expired nodes at the same time passes over it.
     */
    Optional<ClusterNode> takeExpired(String self) throws SQLException {
        // Never this node's own: its fence and its renewal decide about that one.
        List<ClusterNode> found = many(
                "SELECT " + COLUMNS + ", " + dialect.now() + ", 0, 0 FROM nodes n"
                        + " WHERE n.state = 'live' AND n.lease_until < " + dialect.now() + " AND n.id <> ?"
                        + " ORDER BY n.lease_until LIMIT 1" + dialect.claimRows(),
                self);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }

    void markDead(String id) throws SQLException {
        db.update("UPDATE nodes SET state = 'dead' WHERE id = ?", id);
    }

    /** Forgets nodes that ended more than {@code keepMillis} ago. */
    int forget(long keepMillis) throws SQLException {
        return db.count(
                "DELETE FROM nodes WHERE state IN ('dead', 'stopped') AND heartbeat_at < " + dialect.now() + " - ?",
                keepMillis);
    }

    private List<ClusterNode> many(String sql, Object... args) throws SQLException {
        List<ClusterNode> found = new ArrayList<>();
        try (PreparedStatement s = db.prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                Instant leaseUntil = Instant.ofEpochMilli(rs.getLong(8));
                Instant readAt = Instant.ofEpochMilli(rs.getLong(10));
                String stored = rs.getString(9);
                ClusterNode.State state = switch (stored) {
                    case "dead" -> ClusterNode.State.DEAD;
                    case "stopped" -> ClusterNode.State.STOPPED;
                    default -> leaseUntil.isAfter(readAt) ? ClusterNode.State.LIVE : ClusterNode.State.FENCED;
                };
                String labels = rs.getString(4);
                found.add(new ClusterNode(
                        rs.getString(1),
                        Optional.ofNullable(rs.getString(2)),
                        rs.getString(3),
                        labels.isEmpty() ? List.of() : List.of(labels.split(",")),
                        rs.getString(5),
                        Instant.ofEpochMilli(rs.getLong(6)),
                        Instant.ofEpochMilli(rs.getLong(7)),
                        leaseUntil,
                        state,
                        readAt,
                        rs.getInt(11),
                        rs.getInt(12)));
            }
        }
        return found;
    }
}
