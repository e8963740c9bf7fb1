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
    private SqliteStore(Connection connection) throws SQLException {
        super(connection);
    }

    public static SqliteStore open(Path file) {
        try {
            Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = FULL");
                s.execute("PRAGMA busy_timeout = 10000");
            }
            return new SqliteStore(connection);
        } catch (SQLException e) {
            throw new StoreException("store: cannot open " + file + ": " + e.getMessage(), e);
        }
    }
}
