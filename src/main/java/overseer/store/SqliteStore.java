package overseer.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store: one SQLite file in the data directory, in WAL mode with
 * {@code synchronous=FULL}, so a commit is on disk before it returns.
 */
public final class SqliteStore extends JdbcStore {
    private static final Logger log = LoggerFactory.getLogger(SqliteStore.class);

    /** The database's file in the data directory; SQLite keeps {@code -wal} and {@code -shm} beside it. */
    public static final String FILE = "overseer.db";

    /** Below this much free space, a failed write is taken for a full disk whatever SQLite said. */
    private static final long NEARLY_FULL = 1L << 20;

    private SqliteStore(Connection connection, Outbox outbox, Path file) {
        super(
                new GroupCommit(connection, "BEGIN IMMEDIATE", failure -> diskFull(failure, file)),
                Dialect.SQLITE,
                outbox);
    }

    /**
     * Whether a write failed for a full disk: by what the failure says or, as SQLite's own words
     * after a failed commit may be only a follow-on error, by the file system's free space.
     */
    private static boolean diskFull(Throwable failure, Path file) {
        if (DiskFull.in(failure)) {
            return true;
        }
        try {
            return java.nio.file.Files.getFileStore(file).getUsableSpace() < NEARLY_FULL;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    // BEGIN IMMEDIATE takes the write lock when the transaction begins, waiting (busy_timeout)
    // for another connection's. A deferred transaction reads first and asks for the lock only to
    // write; if another connection committed meanwhile, its snapshot is stale and SQLite fails
    // it at once with SQLITE_BUSY rather than wait.

    public static SqliteStore open(Path file) {
        return open(file, Outbox.NONE);
    }

    /** Opens the store; {@code outbox} says which webhook deliveries each event makes. */
    public static SqliteStore open(Path file, Outbox outbox) {
        try {
            Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = connection.createStatement()) {
                incrementalVacuum(s, file);
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = FULL");
                s.execute("PRAGMA busy_timeout = 10000");
                // Rows hold secret values until their execution ends (or is removed); what a
                // row's update or removal frees is zeroed, not left in the file's free space.
                s.execute("PRAGMA secure_delete = ON");
                // The WAL keeps old versions of pages after a checkpoint, until overwritten; cut
                // it to what the next transaction writes when that one starts it over.
                s.execute("PRAGMA journal_size_limit = 0");
            }
            Migrations.apply(connection, Dialect.SQLITE);
            return new SqliteStore(connection, outbox, file.toAbsolutePath());
        } catch (SQLException e) {
            throw new StoreException("store: cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void reclaim() {
        // The driver takes one step of the pragma per execution, and SQLite frees one page per
        // step; chunks keep each hold of the connection short.
        int chunk = 1000;
        long left = Long.parseLong(setting("freelist_count"));
        while (left > 0) {
            read("reclaim free pages", () -> {
                try (var s = connection().prepareStatement("PRAGMA incremental_vacuum")) {
                    for (int i = 0; i < chunk; i++) {
                        s.execute();
                    }
                }
                return null;
            });
            long before = left;
            left = Long.parseLong(setting("freelist_count"));
            if (left >= before) {
                return;
            }
        }
    }

    /** A setting of this connection, such as SQLite's {@code synchronous}, as text. */
    String setting(String pragma) {
        return read("read a setting", () -> {
            try (var s = connection().prepareStatement("PRAGMA " + pragma);
                    ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : "";
            }
        });
    }

    /**
     * Retention frees pages that the file would otherwise keep for good. With incremental
     * auto-vacuum they can be handed back without rewriting the whole file; a database made
     * before this setting (or by hand) is converted once, which rewrites it.
     */
    private static void incrementalVacuum(Statement s, Path file) throws SQLException {
        String mode;
        try (ResultSet rs = s.executeQuery("PRAGMA auto_vacuum")) {
            mode = rs.next() ? rs.getString(1) : "";
        }
        if (!mode.equals("2")) {
            s.execute("PRAGMA auto_vacuum = INCREMENTAL");
            // A new database takes the setting with its first table; one with tables is rewritten.
            boolean empty;
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM sqlite_master")) {
                empty = !rs.next() || rs.getInt(1) == 0;
            }
            if (!empty) {
                log.info("store: converting {} to incremental vacuum (once)", file);
                s.execute("VACUUM");
            }
        }
    }
}
