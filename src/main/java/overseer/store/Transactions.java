package overseer.store;

import java.sql.SQLException;
import java.util.Optional;

/**
 * How a store's work reaches its database. A write runs in a transaction that is committed (on
 * disk) before {@link #write} returns; a read sees only committed data. SQLite: one connection
 * and group commit; PostgreSQL: a pooled connection per transaction.
 */
sealed interface Transactions extends AutoCloseable permits GroupCommit, PooledTransactions {
    @FunctionalInterface
    interface Work<T> {
        T run(Session session) throws SQLException;
    }

    <T> T read(String what, Work<T> work);

    <T> T write(String what, Work<T> work);

    /** The error of the latest write, or of reaching the database, while it lasts. */
    Optional<String> failure();

    @Override
    void close();
}
