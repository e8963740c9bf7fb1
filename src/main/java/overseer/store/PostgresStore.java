package overseer.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store in a PostgreSQL database, on a pool of connections, each transaction committed with
 * {@code synchronous_commit=on}: flushed to the server's disk before the commit returns.
 */
public final class PostgresStore extends JdbcStore {
    private static final Logger log = LoggerFactory.getLogger(PostgresStore.class);

    /** The advisory lock held while migrating, so that servers starting at once migrate once. */
    private static final long MIGRATION_LOCK = 0x6f76657273656572L; // "overseer"

    /** How long a caller waits for a connection while the database is away, before its call fails. */
    private static final long CONNECTION_TIMEOUT_MILLIS = 2_000;

    /**
     * How long a session may sit in an open transaction without a statement before the database
     * ends it. Overseer's transactions take milliseconds; one left open is a server frozen
     * (SIGSTOP, a swap storm) in the middle of it, whose row and advisory locks (a job's counter,
     * the queue's claim) would otherwise stop every other node until it resumes, if ever.
     */
    static final java.time.Duration IDLE_IN_TRANSACTION = java.time.Duration.ofSeconds(5);

    /** Where the password comes from, when the pgpass file does not have it. */
    public static final String PASSWORD_VARIABLE = "OVERSEER_STORE_PASSWORD";

    private final StoreLocation.Postgres where;

    private PostgresStore(PooledTransactions transactions, Outbox outbox, StoreLocation.Postgres where) {
        super(transactions, Dialect.POSTGRESQL, outbox);
        this.where = where;
    }

    /**
     * Connects, checks the server keeps commits durable, migrates and opens the pool. A database
     * that cannot be reached, does not exist or refuses the credentials is one {@link
     * StoreException} line naming host and database, never the password.
     */
    public static PostgresStore open(StoreLocation.Postgres where, Optional<String> password, Outbox outbox) {
        Properties properties = properties(where, password);
        // One plain connection first: the pool would log its own failure with a stack trace.
        try (Connection c = DriverManager.getConnection(where.jdbcUrl(), properties)) {
            durable(c, where);
            migrate(c);
        } catch (SQLException e) {
            String reason = PooledTransactions.rootMessage(e);
            if (reason.contains("no password was provided")) {
                reason += " (give it in " + PASSWORD_VARIABLE + " or a pgpass file)";
            }
            throw new StoreException("store: cannot open " + where.describe() + ": " + reason, e);
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("overseer-store");
        config.setJdbcUrl(where.jdbcUrl());
        config.setDataSourceProperties(properties);
        config.setMaximumPoolSize(16);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
        config.setValidationTimeout(1_000);
        // Started without waiting for the database: it answered a moment ago, and a pool that
        // cannot fill now keeps trying, while calls fail one by one until it is back.
        config.setInitializationFailTimeout(-1);
        config.setConnectionInitSql("SET synchronous_commit = on; SET idle_in_transaction_session_timeout = "
                + IDLE_IN_TRANSACTION.toMillis());
        // The statements count on READ COMMITTED (each one sees what committed before it, an
        // insert that conflicts waits and then finds the other's row), whatever the role's default.
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        HikariDataSource pool = new HikariDataSource(config);
        return new PostgresStore(new PooledTransactions(pool, pool, where.describe()), outbox, where);
    }

    private static Properties properties(StoreLocation.Postgres where, Optional<String> password) {
        Properties p = new Properties();
        p.putAll(where.params());
        p.putIfAbsent("user", System.getProperty("user.name"));
        p.putIfAbsent("ApplicationName", "overseer");
        p.putIfAbsent("connectTimeout", "5");
        // A network that drops packets mid-transaction fails the call in 30 s (a 503), rather
        // than after the kernel's retransmissions give up many minutes later.
        p.putIfAbsent("socketTimeout", "30");
        p.putIfAbsent("tcpKeepAlive", "true");
        // The server's DETAIL of an error can quote the row ("Failing row contains ..."), secret
        // params included; messages go to logs and 503 answers, so it is left out.
        p.setProperty("logServerErrorDetail", "false");
        password.ifPresent(pw -> p.setProperty("password", pw));
        return p;
    }

    /**
     * Every 2xx is sent after its commit is on disk: a server with {@code fsync} off could lose
     * acknowledged work in a crash, which is said loudly at every start rather than found later.
     */
    private static void durable(Connection c, StoreLocation.Postgres where) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SHOW fsync")) {
            if (rs.next() && !rs.getString(1).equals("on")) {
                log.warn(
                        "store: {} runs with fsync off: a crash of that server can lose executions Overseer"
                                + " acknowledged; turn fsync on for anything but a throwaway test",
                        where.describe());
            }
        }
    }

    /** Migrates under a session advisory lock: a second server starting at once waits, then finds it done. */
    private static void migrate(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
        }
        try {
            Migrations.apply(c, Dialect.POSTGRESQL);
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
            }
        }
    }

    /** PostgreSQL's autovacuum makes the space of removed rows reusable; nothing to hand back here. */
    @Override
    public void reclaim() {}

    /** A setting of the server as this store's connections see it, such as {@code synchronous_commit}. */
    String setting(String name) {
        if (!name.matches("[a-z_]+")) {
            throw new IllegalArgumentException("not a setting name: " + name);
        }
        return read("read a setting", () -> {
            try (var s = connection().prepareStatement("SHOW " + name);
                    ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : "";
            }
        });
    }

    @Override
    public String toString() {
        return "PostgresStore[" + where.describe() + "]";
    }
}
