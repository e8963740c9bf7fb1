package overseer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The connection one unit of a store's work runs on, inside its transaction (or, for a read on
 * PostgreSQL, in auto-commit): how the repositories prepare statements without knowing whether
 * they are cached (SQLite, one connection) or prepared per transaction (a pooled connection,
 * whose driver caches them on the server).
 */
interface Session {
    PreparedStatement prepare(String sql) throws SQLException;

    /** A statement that takes no parameters and returns nothing (a savepoint, a pragma). */
    void execute(String sql) throws SQLException;

    Connection connection();
}
