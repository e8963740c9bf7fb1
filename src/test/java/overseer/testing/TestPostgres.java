package overseer.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import overseer.store.StoreLocation;

/**
 * The PostgreSQL server tests use: {@code OVERSEER_TEST_POSTGRES} (a {@code --store} URL of a
 * database to connect to for creating others; default the machine's server at 127.0.0.1:5432),
 * fresh databases made on it per test class or per server data directory and dropped after.
 * Without a reachable server the tests that need it are skipped with one line — except under
 * {@code CI=true}, where that is a failure, so that a green CI always ran them.
 */
public final class TestPostgres {
    private static final String URL = Optional.ofNullable(System.getenv("OVERSEER_TEST_POSTGRES"))
            .filter(u -> !u.isBlank())
            .orElse("postgresql://127.0.0.1:5432/postgres?user=postgres");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** The database made for each data directory, so that a restarted server finds its own again. */
    private static final ConcurrentHashMap<Path, String> BY_DATA = new ConcurrentHashMap<>();

    private static volatile Optional<String> unreachable;

    static {
        // Databases of servers whose test used no fixture (a jar test): dropped when the run ends.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (String name : java.util.List.copyOf(BY_DATA.values())) {
                try {
                    drop(name);
                } catch (RuntimeException e) {
                    // The run is over; a database left behind is the test server's to lose.
                }
            }
        }));
    }

    private TestPostgres() {}

    /** Whether end-to-end servers run on PostgreSQL in this run ({@code OVERSEER_TEST_STORE=postgresql}). */
    public static boolean serversOnPostgres() {
        return "postgresql".equalsIgnoreCase(System.getenv("OVERSEER_TEST_STORE"));
    }

    /** The store a test server on {@code data} uses: SQLite, or its own PostgreSQL database. */
    static StoreLocation storeFor(Path data) {
        if (!serversOnPostgres()) {
            return new StoreLocation.Sqlite();
        }
        String name = BY_DATA.computeIfAbsent(data.toAbsolutePath().normalize(), d -> create());
        return location(name);
    }

    /** {@code --store} for a jar server on {@code data} in a PostgreSQL run (with the admin URL's parameters), else empty. */
    public static Optional<String> jarStoreFor(Path data) {
        if (!serversOnPostgres()) {
            return Optional.empty();
        }
        StoreLocation.Postgres pg = (StoreLocation.Postgres) storeFor(data);
        StringBuilder url = new StringBuilder(pg.describe());
        String sep = "?";
        for (var e : pg.params().entrySet()) {
            url.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = "&";
        }
        return Optional.of(url.toString());
    }

    /** Drops the databases made for data directories under {@code dir}, which is being removed. */
    static void forgetUnder(Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        for (Path data : java.util.List.copyOf(BY_DATA.keySet())) {
            if (data.startsWith(root)) {
                String name = BY_DATA.remove(data);
                if (name != null) {
                    drop(name);
                }
            }
        }
    }

    /** The admin location: the database this connects to for creating the others. */
    public static StoreLocation.Postgres admin() {
        return (StoreLocation.Postgres) StoreLocation.parse(URL);
    }

    /** The location of database {@code name} on the test server. */
    public static StoreLocation.Postgres location(String name) {
        StoreLocation.Postgres admin = admin();
        return new StoreLocation.Postgres(admin.host(), admin.port(), name, admin.params());
    }

    /** Skips (or, under CI, fails) the calling test when the server cannot be reached. */
    public static void assumeReachable() {
        Optional<String> problem = unreachable();
        if (problem.isEmpty()) {
            return;
        }
        String line = "PostgreSQL tests need a server: " + problem.get()
                + " (set OVERSEER_TEST_POSTGRES to a reachable postgresql:// URL to run them)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(line);
        }
        Assumptions.abort(line);
    }

    private static Optional<String> unreachable() {
        Optional<String> known = unreachable;
        if (known == null) {
            try (Connection c = connect(admin().database())) {
                known = Optional.empty();
            } catch (SQLException e) {
                known = Optional.of(admin().describe() + ": " + e.getMessage());
            }
            unreachable = known;
        }
        return known;
    }

    /** Makes a fresh database and returns its name. */
    public static String create() {
        assumeReachable();
        String name = "overseer_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet() + "_"
                + Long.toString(System.nanoTime() & 0xffffff, 36);
        run("CREATE DATABASE " + name);
        return name.toLowerCase(Locale.ROOT);
    }

    public static void drop(String name) {
        run("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    /** A plain connection to database {@code name} on the test server, for a test's own checks. */
    public static Connection connect(String name) throws SQLException {
        StoreLocation.Postgres admin = admin();
        Properties p = new Properties();
        p.putAll(admin.params());
        p.putIfAbsent("user", System.getProperty("user.name"));
        p.setProperty("connectTimeout", "3");
        return DriverManager.getConnection("jdbc:postgresql://" + admin.host() + ":" + admin.port() + "/" + name, p);
    }

    private static void run(String sql) {
        try (Connection c = connect(admin().database());
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
