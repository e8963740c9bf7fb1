package overseer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Transactions on a pool of connections (PostgreSQL): each write takes a connection for one
 * transaction and commits it ({@code synchronous_commit=on}: on disk) before it returns; each
 * read takes one in auto-commit. Concurrent writers are the database's to order (row locks,
 * unique indexes), not a lock in this JVM. A transaction the database aborted to break a
 * deadlock or a serialization conflict is run again, a few times; nothing of it was committed.
 */
final class PooledTransactions implements Transactions {
    private static final int ATTEMPTS = 3;

    private final DataSource pool;
    private final AutoCloseable closer;
    /** Where the database is, for messages: host, port and database, never the password. */
    private final String where;

    private volatile Optional<String> failure = Optional.empty();
    /** When the database last answered (System.nanoTime): {@link #failure} asks it at most once a second. */
    private volatile long answeredAt = System.nanoTime();

    PooledTransactions(DataSource pool, AutoCloseable closer, String where) {
        this.pool = pool;
        this.closer = closer;
        this.where = where;
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        try (Connection c = connect()) {
            T result = work.run(session(c));
            answered();
            return result;
        } catch (SQLException e) {
            throw failed(what, e);
        }
    }

    @Override
    public <T> T write(String what, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = connect()) {
                try {
                    c.setAutoCommit(false);
                    T result = work.run(session(c));
                    c.commit();
                    answered();
                    return result;
                } catch (Throwable t) {
                    try {
                        c.rollback();
                    } catch (SQLException rollback) {
                        // The connection broke: the database rolls back what it never saw committed.
                        t.addSuppressed(rollback);
                    }
                    throw t;
                }
            } catch (SQLException e) {
                if (attempt < ATTEMPTS && retryable(e)) {
                    continue;
                }
                throw failed(what, e);
            }
        }
    }

    /** A connection from the pool; none within the pool's timeout is the database being away. */
    private Connection connect() throws SQLException {
        return pool.getConnection();
    }

    /** Deadlock detected, serialization failure: the database rolled it back and says try again. */
    private static boolean retryable(SQLException e) {
        return "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
    }

    private StoreException failed(String what, SQLException e) {
        if (DiskFull.in(e)) {
            failure = Optional.of("the database's disk is full");
            return new DiskFull(e);
        }
        String reason =
                unreachable(e) ? "the database " + where + " cannot be reached: " + rootMessage(e) : e.getMessage();
        failure = Optional.of(reason);
        return new StoreException("store: cannot " + what + ": " + reason, e);
    }

    /** A connection failure (SQLSTATE class 08, 57P: the server shutting down, or no connection in time). */
    static boolean unreachable(SQLException e) {
        String state = String.valueOf(e.getSQLState());
        return e instanceof java.sql.SQLTransientConnectionException
                || state.startsWith("08")
                || state.startsWith("57P")
                || (e.getCause() instanceof SQLException cause && unreachable(cause));
    }

    /** The innermost message: the pool's own ("request timed out") says less than the driver's. */
    static String rootMessage(Throwable e) {
        String message = String.valueOf(e.getMessage());
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        return message;
    }

    private void answered() {
        answeredAt = System.nanoTime();
        failure = Optional.empty();
    }

    /**
     * The latest failure while it lasts. An idle server makes no calls that would notice the
     * database going away, so when nothing has answered for a second, this asks it.
     */
    @Override
    public Optional<String> failure() {
        if (System.nanoTime() - answeredAt > 1_000_000_000L) {
            try (Connection c = pool.getConnection()) {
                if (c.isValid(1)) {
                    answered();
                }
            } catch (SQLException e) {
                failed("reach the database", e);
            }
        }
        return failure;
    }

    private static Session session(Connection c) {
        return new Session() {
            @Override
            public PreparedStatement prepare(String sql) throws SQLException {
                return c.prepareStatement(sql);
            }

            @Override
            public void execute(String sql) throws SQLException {
                try (java.sql.Statement s = c.createStatement()) {
                    s.execute(sql);
                }
            }

            @Override
            public Connection connection() {
                return c;
            }
        };
    }

    @Override
    public void close() {
        try {
            closer.close();
        } catch (Exception e) {
            // Closing the pool at shutdown: the database ends the sessions it loses.
        }
    }
}
