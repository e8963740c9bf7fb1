package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.DriverManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dir;

    @Override
    Store open() {
        return SqliteStore.open(dir.resolve("overseer.db"), HOOKS);
    }

    @Override
    Store reopen(Store previous) {
        previous.close();
        return open();
    }

    @Test
    void runsInWalModeWithFullSync() throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("overseer.db"));
                var s = c.createStatement();
                var rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("wal");
        }
        // synchronous is a setting of each connection: ask the store's own. 2 is FULL.
        assertThat(((SqliteStore) store).setting("synchronous")).isEqualTo("2");
    }
}
