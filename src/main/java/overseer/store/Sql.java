package overseer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.Optional;

/**
 * Statements on the session of the transaction the current thread runs store work in: what the
 * repositories share, so that none of them knows which engine or runner it is on.
 */
final class Sql {
    private final ScopedValue<Session> session;

    Sql(ScopedValue<Session> session) {
        this.session = session;
    }

    /** A statement with its arguments bound (String, Long, Integer or null). */
    PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement s = session.get().prepare(sql);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            switch (a) {
                case null -> s.setNull(i + 1, Types.NULL);
                // PostgreSQL's text cannot hold NUL (an event cause a job wrote, say): it would
                // fail the write for good, and on SQLite too it cuts C strings short.
                case String text -> s.setString(i + 1, text.indexOf('\0') < 0 ? text : text.replace('\0', '\uFFFD'));
                case Long l -> s.setLong(i + 1, l);
                case Integer n -> s.setInt(i + 1, n);
                default -> throw new IllegalArgumentException("unsupported SQL argument " + a.getClass());
            }
        }
        return s;
    }

    void update(String sql, Object... args) throws SQLException {
        count(sql, args);
    }

    int count(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = prepare(sql, args)) {
            return s.executeUpdate();
        }
    }

    /** A statement without parameters or results: a savepoint. */
    void execute(String sql) throws SQLException {
        session.get().execute(sql);
    }

    Connection connection() {
        return session.get().connection();
    }

    static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    static void setNullable(PreparedStatement s, int index, Long value) throws SQLException {
        if (value == null) {
            s.setNull(index, Types.BIGINT);
        } else {
            s.setLong(index, value);
        }
    }
}
