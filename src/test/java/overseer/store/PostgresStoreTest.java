package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

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

    @Test
    void commitsAreDurable() {
        PostgresStore pg = (PostgresStore) store;
        assertThat(pg.setting("synchronous_commit")).isEqualTo("on");
        assertThat(pg.setting("fsync")).isEqualTo("on");
    }
}
