package overseer.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The embedded store: one SQLite file in the data directory, in WAL mode with
 * {@code synchronous=FULL}, so a commit is on disk before it returns.
 */
public final class SqliteStore extends JdbcStore {
    private SqliteStore(Connection connection, Outbox outbox) throws SQLException {
        super(connection, outbox);
    }

    public static SqliteStore open(Path file) {
        return open(file, Outbox.NONE);
    }

    /** Opens the store; {@code outbox} says which webhook deliveries each event makes. */
    public static SqliteStore open(Path file, Outbox outbox) {
        try {
            Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = FULL");
                s.execute("PRAGMA busy_timeout = 10000");
            }
            return new SqliteStore(connection, outbox);
        } catch (SQLException e) {
            throw new StoreException("store: cannot open " + file + ": " + e.getMessage(), e);
        }
    }
}
