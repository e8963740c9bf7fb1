package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** Each schedule's anchor and cursor: how far its fires have been handled. */
final class ScheduleRows {
    private final Sql db;

    ScheduleRows(Sql db) {
        this.db = db;
    }

    Optional<ScheduleState> find(String job, String scheduleId) throws SQLException {
        try (PreparedStatement s = db.prepare(
                        "SELECT anchor, cursor, last_fire FROM schedules WHERE job = ? AND schedule_id = ?",
                        job,
                        scheduleId);
                ResultSet rs = s.executeQuery()) {
            if (!rs.next()) {
                return Optional.<ScheduleState>empty();
            }
            return Optional.of(new ScheduleState(
                    Instant.ofEpochMilli(rs.getLong(1)), Instant.ofEpochMilli(rs.getLong(2)), Sql.instant(rs, 3)));
        }
    }

    void save(String job, String scheduleId, ScheduleState state) throws SQLException {
        db.update(
                "INSERT INTO schedules (job, schedule_id, anchor, cursor, last_fire) VALUES (?, ?, ?, ?, ?)"
                        // The anchor is the first one saved: nodes that found none at the same
                        // time all count a period from it.
                        + " ON CONFLICT (job, schedule_id) DO UPDATE SET"
                        + " cursor = excluded.cursor, last_fire = excluded.last_fire"
                        // Several nodes save it: a node behind the others never moves it back.
                        + " WHERE schedules.cursor <= excluded.cursor",
                job,
                scheduleId,
                state.anchor().toEpochMilli(),
                state.cursor().toEpochMilli(),
                state.lastFire().map(Instant::toEpochMilli).orElse(null));
    }
}
