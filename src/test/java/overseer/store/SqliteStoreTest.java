package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
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

    @Test
    void removedExecutionsGiveTheirPagesBackToTheFileSystem() {
        SqliteStore sqlite = (SqliteStore) store;
        assertThat(sqlite.setting("auto_vacuum")).isEqualTo("2");
        java.util.List<Store.Prunable> old = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Execution e = store.create(
                            newExecution("bulky", T0, java.util.Optional.empty()),
                            Event.of("queued", "x".repeat(4000), T0, "api"))
                    .execution();
            store.cancelled(e.job(), e.number(), Event.of("cancel", null, T0, "api"));
            old.add(new Store.Prunable(e.job(), e.number()));
        }
        Instant later = T0.plusSeconds(1);
        assertThat(store.remove(old, later, 1000, later)).hasSize(299);
        assertThat(Long.parseLong(sqlite.setting("freelist_count"))).isGreaterThan(100);
        store.reclaim();
        assertThat(sqlite.setting("freelist_count")).isEqualTo("0");
    }

    @Test
    void aDatabaseWithoutIncrementalVacuumIsConvertedOnOpening() throws Exception {
        Path plain = dir.resolve("plain.db");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + plain);
                var s = c.createStatement()) {
            s.execute("CREATE TABLE unrelated (x TEXT)");
            s.execute("INSERT INTO unrelated VALUES ('kept')");
        }
        try (SqliteStore converted = SqliteStore.open(plain)) {
            assertThat(converted.setting("auto_vacuum")).isEqualTo("2");
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + plain);
                var s = c.createStatement();
                var rs = s.executeQuery("SELECT x FROM unrelated")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("kept");
        }
    }

    @Test
    void aFireIsRecordedOnceEvenByTwoConnectionsToTheSameDatabase() {
        java.time.Instant fire = T0.plusSeconds(60);
        try (Store other = SqliteStore.open(dir.resolve("overseer.db"))) {
            Store.Created first = store.create(scheduled(fire), Event.of("queued", null, T0, "schedule"));
            Store.Created second = other.create(scheduled(fire), Event.of("queued", null, T0, "schedule"));
            assertThat(first.existing()).isFalse();
            assertThat(second.existing()).isTrue();
            assertThat(second.execution().number()).isEqualTo(first.execution().number());
            assertThat(other.create(scheduled(fire.plusSeconds(60)), Event.of("queued", null, T0, "schedule"))
                            .existing())
                    .isFalse();
        }
    }

    private static NewExecution scheduled(java.time.Instant fire) {
        NewExecution e = newExecution("cron", T0, java.util.Optional.empty());
        return new NewExecution(
                e.job(),
                "schedule",
                e.commit(),
                e.createdAt(),
                e.paramsJson(),
                e.secretsJson(),
                0,
                java.util.Optional.of(fire),
                e.runId(),
                java.util.Optional.empty(),
                NewExecution.Origin.schedule("abc-0"),
                e.prepare());
    }

    @Test
    void aDatabaseWrittenByANewerVersionIsRefusedWithAClearMessage() throws Exception {
        store.close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("overseer.db"));
                var s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version) VALUES (99)");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SqliteStore.open(dir.resolve("overseer.db")))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("the database has schema version 99, newer than this Overseer");
        store = SqliteStore.open(dir.resolve("other.db"));
    }
}
