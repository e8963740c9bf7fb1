package overseer.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import overseer.store.Outbox;
import overseer.store.Store;
import overseer.store.StoreLocation;
import overseer.store.Stores;

/**
 * The store a test server on a data directory uses (SQLite in it, or in a PostgreSQL run the
 * database made for it), for tests that set up or inspect what a server left behind.
 */
public final class ServerStores {
    private ServerStores() {}

    /** The store as the server on {@code data} opens it (migrated), without webhooks. */
    public static Store open(Path data) {
        return Stores.open(TestPostgres.storeFor(data), data, Optional.empty(), Outbox.NONE);
    }

    /** A plain connection to that store's database, migrated first, for rows a test writes or reads itself. */
    public static Connection connect(Path data) throws SQLException {
        open(data).close();
        return switch (TestPostgres.storeFor(data)) {
            case StoreLocation.Sqlite sqlite -> DriverManager.getConnection("jdbc:sqlite:" + Stores.sqliteFile(data));
            case StoreLocation.Postgres pg -> TestPostgres.connect(pg.database());
        };
    }
}
