package overseer.store;

import java.nio.file.Path;
import java.util.Optional;

/** Opens the store {@code --store} names: the one place that knows both engines' layouts. */
public final class Stores {
    private Stores() {}

    public static Store open(StoreLocation location, Path data, Optional<String> password, Outbox outbox) {
        return switch (location) {
            case StoreLocation.Sqlite sqlite -> SqliteStore.open(sqlite.file(data), outbox);
            case StoreLocation.Postgres postgres -> PostgresStore.open(postgres, password, outbox);
        };
    }

    /** The files of the store in {@code data}, for the size gauge and permissions: none on PostgreSQL. */
    public static java.util.List<Path> files(StoreLocation location, Path data) {
        return switch (location) {
            case StoreLocation.Sqlite sqlite ->
                java.util.List.of(
                        sqlite.file(data),
                        data.resolve(SqliteStore.FILE + "-wal"),
                        data.resolve(SqliteStore.FILE + "-shm"));
            case StoreLocation.Postgres postgres -> java.util.List.of();
        };
    }

    /** Whether {@code name}, a file in the data directory, is one of the embedded store's. */
    public static boolean isStoreFile(String name) {
        return name.startsWith(SqliteStore.FILE);
    }

    /** The embedded store's file in {@code data}, for {@code overseer backup}. */
    public static Path sqliteFile(Path data) {
        return new StoreLocation.Sqlite().file(data);
    }

    /**
     * Copies the embedded store at {@code db} to {@code target} with SQLite's {@code VACUUM INTO}:
     * consistent while the server keeps running (a reader in WAL mode sees one committed state
     * and blocks no writer).
     */
    public static void backup(Path db, Path target) throws java.sql.SQLException {
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
                var s = c.prepareStatement("VACUUM INTO ?")) {
            try (var pragma = c.createStatement()) {
                pragma.execute("PRAGMA busy_timeout = 10000");
            }
            s.setString(1, target.toString());
            s.execute();
        }
    }
}
