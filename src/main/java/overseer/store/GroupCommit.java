package overseer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Transactions on one connection, for a database with one writer (SQLite). Calls are serialized
 * by a lock: the driver's native calls must not interleave on a connection. Group commit:
 * writers queue their work, and whoever holds the connection next commits everything queued
 * meanwhile in one transaction. Many writers then share one fsync, and none returns before the
 * fsync that covers its work.
 */
final class GroupCommit implements Transactions {
    private final Connection connection;
    private final Statements statements;
    private final Session session;
    private final String beginWrite;
    private final Predicate<Throwable> diskFull;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Pending<?>> pending = new ConcurrentLinkedQueue<>();
    private volatile Optional<String> failure = Optional.empty();
    /** Whether a failed transaction's ROLLBACK failed too, so that it may still be open; guarded by the lock. */
    private boolean leftOpen;

    /**
     * {@code beginWrite}: the statement that opens a write transaction (SQLite's {@code BEGIN
     * IMMEDIATE}, which takes the write lock at once). {@code diskFull}: whether a failure means
     * the disk is full, so that callers hear that and not the database's follow-on error.
     */
    GroupCommit(Connection connection, String beginWrite, Predicate<Throwable> diskFull) {
        this.connection = connection;
        this.statements = new Statements(connection);
        this.beginWrite = beginWrite;
        this.diskFull = diskFull;
        this.session = new Session() {
            @Override
            public PreparedStatement prepare(String sql) throws SQLException {
                return statements.prepare(sql);
            }

            @Override
            public void execute(String sql) throws SQLException {
                GroupCommit.this.execute(sql);
            }

            @Override
            public Connection connection() {
                return connection;
            }
        };
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        lock.lock();
        try {
            if (leftOpen) {
                // A read must not see the writes of a transaction reported as failed: a caller
                // reading its row back after a failed write would take them as stored.
                leftOpen = false;
                try {
                    execute("ROLLBACK");
                } catch (SQLException nothingOpen) {
                    // SQLite had rolled it back itself.
                }
            }
            return work.run(session);
        } catch (SQLException e) {
            throw new StoreException("store: cannot " + what + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public <T> T write(String what, Work<T> work) {
        if (lock.isHeldByCurrentThread()) {
            // Inside another store call: committing here would commit part of that one's work.
            throw new IllegalStateException("store: '" + what + "' was called inside another store call");
        }
        Pending<T> mine = new Pending<>(what, work);
        pending.add(mine);
        lock.lock();
        try {
            if (!mine.isDone()) {
                commitPending();
            }
        } finally {
            lock.unlock();
        }
        return mine.result();
    }

    /** How many writes wait for the writer that holds the connection; tests hold one to queue others. */
    int queuedWrites() {
        return pending.size();
    }

    @Override
    public Optional<String> failure() {
        return failure;
    }

    /**
     * One queued write and, once its transaction ended, its outcome. Until then it counts as
     * failed: a write whose transaction never ran must not return as if it were stored.
     */
    private final class Pending<T> {
        final String what;
        final Work<T> work;
        private boolean done;
        private T result;
        private Throwable failure;

        Pending(String what, Work<T> work) {
            this.what = what;
            this.work = work;
        }

        boolean isDone() {
            return done;
        }

        /** Its work ran and the transaction holding it is committed. */
        void committed() {
            failure = null;
            done = true;
        }

        void fail(Throwable t) {
            failure = t;
            result = null;
            done = true;
        }

        void run() throws SQLException {
            result = work.run(session);
        }

        T result() {
            if (!done) {
                throw new IllegalStateException("store: cannot " + what + ": its transaction never ran");
            }
            return switch (failure) {
                case null -> result;
                case SQLException e -> throw new StoreException("store: cannot " + what + ": " + e.getMessage(), e);
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                default -> throw new StoreException("store: cannot " + what + ": " + failure, failure);
            };
        }
    }

    /**
     * Commits what is queued, all in one transaction. Should that fail, for whatever reason,
     * it is rolled back, every piece of it counts as failed with that cause, and each runs again
     * alone: the failing piece fails alone, the others are stored, and a full disk reports its
     * own error. Never throws: every piece ends committed or failed. Called with the lock held,
     * which also guards {@link Pending}'s fields.
     */
    private void commitPending() {
        List<Pending<?>> batch = new ArrayList<>();
        for (Pending<?> p; (p = pending.poll()) != null; ) {
            batch.add(p);
        }
        if (batch.size() > 1) {
            Optional<Throwable> failed = transaction(batch);
            if (failed.isEmpty()) {
                batch.forEach(Pending::committed);
                return;
            }
            batch.forEach(p -> p.fail(failed.get()));
        }
        for (Pending<?> p : batch) {
            transaction(List.of(p)).ifPresentOrElse(p::fail, p::committed);
        }
    }

    /**
     * Runs {@code pieces} in one transaction: empty once it is committed, else the cause it was
     * rolled back for. Catches everything: an {@link Error} in one piece must roll back the
     * others too, not leave them to be committed. The transaction is opened and closed by SQL,
     * with the driver left in auto-commit: nothing is ever committed but by the {@code COMMIT}
     * of a transaction whose {@code BEGIN} succeeded.
     */
    private Optional<Throwable> transaction(List<Pending<?>> pieces) {
        boolean begun = false;
        try {
            begin();
            begun = true;
            for (Pending<?> p : pieces) {
                p.run();
            }
            execute("COMMIT");
            failure = Optional.empty();
            return Optional.empty();
        } catch (Throwable t) {
            if (begun) {
                try {
                    execute("ROLLBACK");
                } catch (Throwable rollback) {
                    // SQLite may have rolled back already (a full disk, an I/O error): then
                    // ROLLBACK fails and nothing is lost. Were it still open, the next BEGIN
                    // fails, so that half a transaction is never committed, and the next read
                    // rolls it back first.
                    leftOpen = true;
                    t.addSuppressed(rollback);
                }
            }
            if (t instanceof SQLException && diskFull.test(t)) {
                failure = Optional.of("the disk is full");
                return Optional.of(new DiskFull(t));
            }
            if (t instanceof SQLException) {
                failure = Optional.of(t.getMessage());
            }
            return Optional.of(t);
        }
    }

    /**
     * Opens a write transaction. A transaction left open by a group whose COMMIT and ROLLBACK both
     * failed (a full disk) would refuse every later BEGIN: its writes were already reported as
     * failed to their callers, so it is rolled back here and the BEGIN tried once more.
     */
    private void begin() throws SQLException {
        try {
            execute(beginWrite);
        } catch (SQLException e) {
            if (e.getMessage() == null || !e.getMessage().contains("within a transaction")) {
                throw e;
            }
            execute("ROLLBACK");
            execute(beginWrite);
        }
        leftOpen = false;
    }

    /**
     * A transaction-control statement, on a statement of its own rather than a cached one: after a
     * COMMIT that failed (a full disk) a cached statement can stay in a state in which every later
     * use fails ("statement is not executing"), and writes would never recover.
     */
    private void execute(String sql) throws SQLException {
        try (java.sql.Statement s = connection.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            statements.close();
            connection.close();
        } catch (SQLException e) {
            // Closing after a failure: nothing more can be done with the connection.
        } finally {
            lock.unlock();
        }
    }
}
