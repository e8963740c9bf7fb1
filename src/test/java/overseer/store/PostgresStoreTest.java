package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import overseer.testing.TestPostgres;

/**
 * The store contract on PostgreSQL: each test on a fresh database of the test server (made and
 * dropped here), two stores on it as two servers would be.
 */
class PostgresStoreTest extends StoreContract {
    private static String classDatabase;
    private String database;

    @BeforeAll
    static void server() {
        TestPostgres.assumeReachable();
    }

    @AfterAll
    static void dropLast() {
        if (classDatabase != null) {
            TestPostgres.drop(classDatabase);
        }
    }

    @Override
    Store open() {
        if (classDatabase != null) {
            TestPostgres.drop(classDatabase);
        }
        database = TestPostgres.create();
        classDatabase = database;
        return opened();
    }

    private Store opened() {
        return PostgresStore.open(TestPostgres.location(database), Optional.empty(), HOOKS);
    }

    @Override
    Store reopen(Store previous) {
        previous.close();
        return opened();
    }

    @Override
    Store another() {
        return opened();
    }

    /**
     * On PostgreSQL, writers do not queue in this JVM but in the database: a write waiting for
     * the held one waits for the row lock of the job's counter. Counted from pg_stat_activity.
     */
    @Override
    void awaitQueuedWrites(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int waiting = 0;
        while (true) {
            try (Connection c = TestPostgres.connect(database);
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '" + database
                            + "' AND wait_event_type = 'Lock'")) {
                rs.next();
                waiting = rs.getInt(1);
            } catch (java.sql.SQLException e) {
                throw new AssertionError(e);
            }
            if (waiting >= n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + waiting + " of " + n + " writes wait for the held one");
            }
            Thread.sleep(5);
        }
    }

    /**
     * A server frozen in the middle of a transaction (here: one that sleeps in it) holds its locks
     * only until the database ends its session: another node's claim is not stopped for good.
     */
    @Test
    void aTransactionLeftIdleIsEndedByTheDatabaseAndItsLocksReleased() throws Exception {
        JdbcStore frozenNode = (JdbcStore) another();
        JdbcStore otherNode = (JdbcStore) another();
        try (frozenNode;
                otherNode) {
            long lock = 0x7465737469646c65L;
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch resume = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Object> frozen =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> frozenNode.write("hold a lock", () -> {
                        try (var s = frozenNode.connection().createStatement()) {
                            s.execute("SELECT pg_advisory_xact_lock(" + lock + ")");
                        }
                        held.countDown();
                        try {
                            resume.await(60, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return null;
                    }));
            try {
                assertThat(held.await(30, java.util.concurrent.TimeUnit.SECONDS))
                        .isTrue();
                // Taken while the frozen one still sits in its transaction: the database ended it.
                otherNode.write("take the lock", () -> {
                    try (var s = otherNode.connection().createStatement()) {
                        s.execute("SET LOCAL lock_timeout = '30s'");
                        return s.execute("SELECT pg_advisory_xact_lock(" + lock + ")");
                    }
                });
            } finally {
                resume.countDown();
            }
            assertThatThrownBy(frozen::join).hasCauseInstanceOf(StoreException.class);
            // The pool replaces the ended session: the next write goes through.
            assertThat(frozenNode.write("write again", () -> 1)).isEqualTo(1);
        }
    }

    @Test
    void commitsAreDurable() {
        PostgresStore pg = (PostgresStore) store;
        assertThat(pg.setting("synchronous_commit")).isEqualTo("on");
        assertThat(pg.setting("fsync")).isEqualTo("on");
    }

    /**
     * A redelivery committed while retention is inside its removing transaction, between its
     * check and its deletes: the acknowledged delivery is kept with its execution (found by
     * review: READ COMMITTED let the check pass and the delete take the delivery just sent again).
     */
    @Test
    void aRedeliveryDuringTheRemovalKeepsTheExecutionAndTheDelivery() throws Exception {
        twoOldHookedExecutionsTheFirstWithFailedDeliveries();
        java.time.Instant keepAfter = T0.minus(java.time.Duration.ofDays(30));
        java.time.Instant youngest = T0.minus(java.time.Duration.ofDays(1));
        java.util.List<Store.Prunable> listed = store.prunable(keepAfter, 1000, youngest, 100);
        assertThat(listed).containsExactly(new Store.Prunable("hooked", 1));
        try (Connection admin = TestPostgres.connect(database);
                java.util.concurrent.ExecutorService pool =
                        java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            // The redelivery's transaction holds the delivery's row when the removal comes to it.
            admin.setAutoCommit(false);
            try (var s = admin.prepareStatement(
                    "UPDATE deliveries SET state = 'pending', finished_at = NULL WHERE id = 'A-hooked-1-queued'")) {
                assertThat(s.executeUpdate()).isEqualTo(1);
            }
            var removed = pool.submit(() -> store.remove(listed, keepAfter, 1000, youngest));
            awaitQueuedWrites(1);
            admin.commit();
            assertThat(removed.get(10, TimeUnit.SECONDS)).isEmpty();
        }
        assertThat(store.execution("hooked", 1)).isPresent();
        assertThat(store.delivery("A-hooked-1-queued").orElseThrow().state()).isEqualTo(Delivery.State.PENDING);
    }
}
