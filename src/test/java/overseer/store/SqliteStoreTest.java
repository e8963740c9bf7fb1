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
