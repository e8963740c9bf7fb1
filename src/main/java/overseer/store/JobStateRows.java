package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/** Which jobs an operator disabled, and when each was last switched. */
final class JobStateRows {
    private final Sql db;

    JobStateRows(Sql db) {
        this.db = db;
    }

    Set<String> disabled() throws SQLException {
        Set<String> disabled = new HashSet<>();
        try (PreparedStatement s = db.connection().prepareStatement("SELECT job FROM job_state WHERE enabled = 0");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                disabled.add(rs.getString(1));
            }
        }
        return disabled;
    }

    void save(String job, boolean enabled, Instant at) throws SQLException {
        db.update(
                "INSERT INTO job_state (job, enabled, changed_at) VALUES (?, ?, ?) ON CONFLICT (job)"
                        + " DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at",
                job,
                enabled ? 1 : 0,
                at.toEpochMilli());
    }
}
