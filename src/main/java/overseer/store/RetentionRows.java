package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What retention may remove, checked again in the removing transaction, and the removal. */
final class RetentionRows {
    /**
     * What retention may remove (see {@link Store#prunable}), from {@code FROM} on, with three
     * arguments: the youngest creation time, the age limit and the per-job count.
     */
    private static final String PRUNABLE = " FROM executions e JOIN job_counters c ON c.job = e.job"
            + " WHERE e.finished_at IS NOT NULL AND e.created_at < ?"
            + " AND (e.created_at < ? OR e.number <= c.last_number - ?)"
            + " AND e.number <> c.last_number"
            + " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.job = e.job"
            + " AND d.number = e.number AND d.state = 'pending')"
            + " AND NOT EXISTS (SELECT 1 FROM executions r WHERE r.job = e.job"
            + " AND r.retry_of = COALESCE(e.retry_of, e.number) AND r.finished_at IS NULL)";

    private final Sql db;
    private final Dialect dialect;

    RetentionRows(Sql db, Dialect dialect) {
        this.db = db;
        this.dialect = dialect;
    }

    List<Store.Prunable> prunable(Instant keepAfter, int perJob, Instant youngest, int limit) throws SQLException {
        List<Store.Prunable> found = new ArrayList<>();
        try (PreparedStatement s = db.prepare(
                        "SELECT e.job, e.number" + PRUNABLE + " ORDER BY e.created_at LIMIT ?",
                        youngest.toEpochMilli(),
                        keepAfter.toEpochMilli(),
                        (long) perJob,
                        limit);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.add(new Store.Prunable(rs.getString(1), rs.getLong(2)));
            }
        }
        return found;
    }

    List<Store.Prunable> remove(List<Store.Prunable> candidates, Instant keepAfter, int perJob, Instant youngest)
            throws SQLException {
        // Checked again in the removing transaction: since they were listed, a delivery may
        // have been sent again or a retry queued.
        List<Store.Prunable> going = new ArrayList<>();
        for (Store.Prunable p : candidates) {
            // Its deliveries first, locked: a redelivery committed before is seen by the check
            // below; one after waits for this transaction and then finds the delivery gone
            // (false, no 2xx), instead of being acknowledged and deleted with the execution.
            try (PreparedStatement s = db.prepare(
                            "SELECT id FROM deliveries WHERE job = ? AND number = ?" + dialect.lockRows(),
                            p.job(),
                            p.number());
                    ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    // Locked by reading.
                }
            }
            try (PreparedStatement s = db.prepare(
                            "SELECT 1" + PRUNABLE + " AND e.job = ? AND e.number = ?",
                            youngest.toEpochMilli(),
                            keepAfter.toEpochMilli(),
                            (long) perJob,
                            p.job(),
                            p.number());
                    ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    going.add(p);
                }
            }
        }
        for (String table : List.of("events", "deliveries", "idempotency_keys", "executions")) {
            try (PreparedStatement s =
                    db.connection().prepareStatement("DELETE FROM " + table + " WHERE job = ? AND number = ?")) {
                for (Store.Prunable p : going) {
                    s.setString(1, p.job());
                    s.setLong(2, p.number());
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
        return List.copyOf(going);
    }
}
