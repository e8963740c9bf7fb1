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

    @Override
    Store another() {
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
        assertThat(((SqliteStore) store).setting("secure_delete")).isEqualTo("1");
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

    /**
     * A secret parameter lives in its execution's row until the execution ends (then the row
     * forgets it) or is removed. Neither the old row's bytes nor a freed page may keep it: after
     * a checkpoint and the next write, neither the database file nor its WAL holds it.
     */
    @Test
    void aForgottenSecretLeavesNoTraceInTheFiles() throws Exception {
        String finished = "s3cr3t-finished-" + java.util.UUID.randomUUID();
        String removed = "s3cr3t-removed-" + java.util.UUID.randomUUID();
        Execution ends = store.create(withSecret("secretive", finished), Event.of("queued", null, T0, "api"))
                .execution();
        Execution goes = store.create(withSecret("secretive", removed), Event.of("queued", null, T0, "api"))
                .execution();
        create("secretive", T0); // the latest, so that the others may go
        store.cancelled("secretive", goes.number(), Event.of("fail", "cancelled", T0, "overseer"));
        store.starting("secretive", ends.number());
        store.started("secretive", ends.number(), 1, Event.of("start", null, T0, "overseer"));
        store.finished(
                "secretive",
                ends.number(),
                ExecutionState.RUNNING,
                java.util.OptionalInt.of(0),
                Event.of("complete", null, T0, "overseer"));
        assertThat(store.remove(
                        java.util.List.of(new Store.Prunable("secretive", goes.number())),
                        T0.plusSeconds(1),
                        1000,
                        T0.plusSeconds(1)))
                .hasSize(1);
        assertThat(store.execution("secretive", ends.number()).orElseThrow().secretsJson())
                .isEqualTo("{}");

        // A checkpoint as SQLite's own (passive), then the next write starts the WAL over.
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("overseer.db"));
                var s = c.createStatement()) {
            s.execute("PRAGMA wal_checkpoint(PASSIVE)");
        }
        store.setEnabled("secretive", true, T0);

        for (String file : java.util.List.of("overseer.db", "overseer.db-wal")) {
            Path path = dir.resolve(file);
            String bytes = java.nio.file.Files.exists(path)
                    ? new String(java.nio.file.Files.readAllBytes(path), java.nio.charset.StandardCharsets.ISO_8859_1)
                    : "";
            assertThat(bytes.contains(finished))
                    .as(file + " holds the finished one's secret")
                    .isFalse();
            assertThat(bytes.contains(removed))
                    .as(file + " holds the removed one's secret")
                    .isFalse();
        }
    }

    /** An execution started with {@code secret} as a secret variable's value, in its secrets and its launch spec. */
    private static NewExecution withSecret(String job, String secret) {
        NewExecution e = newExecution(job, T0, java.util.Optional.empty());
        return new NewExecution(
                e.job(),
                e.trigger(),
                e.commit(),
                e.createdAt(),
                "{\"token\":\"***\"}",
                "{\"token\":\"" + secret + "\"}",
                0,
                e.scheduledAt(),
                e.runId(),
                e.idempotencyKey(),
                e.origin(),
                n -> new NewExecution.Prepared("echo ***", "{\"env\":{\"TOKEN\":\"" + secret + "\"}}"));
    }

    @Test
    void aDatabaseANewerVersionChangedIncompatiblyIsRefusedWithAClearMessage() throws Exception {
        store.close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("overseer.db"));
                var s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version) VALUES (99)");
            s.execute("INSERT INTO schema_readers (oldest) VALUES (99)");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SqliteStore.open(dir.resolve("overseer.db")))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("the database has schema version 99 and needs an Overseer that knows schema"
                        + " version 99 or later; this one knows " + Migrations.latest());
        store = SqliteStore.open(dir.resolve("other.db"));
    }

    /** A rolling upgrade: the newer binary's steps only added, so this one still runs on its database. */
    @Test
    void aDatabaseANewerVersionOnlyAddedToStillOpens() throws Exception {
        store.create(newExecution("kept", T0, java.util.Optional.empty()), Event.of("queued", null, T0, "api"));
        store.close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("overseer.db"));
                var s = c.createStatement()) {
            s.execute("ALTER TABLE executions ADD COLUMN from_the_future TEXT");
            s.execute("INSERT INTO schema_version (version) VALUES (" + (Migrations.latest() + 1) + ")");
        }
        store = SqliteStore.open(dir.resolve("overseer.db"));
        assertThat(store.execution("kept", 1)).isPresent();
        assertThat(store.create(
                                newExecution("kept", T0, java.util.Optional.empty()),
                                Event.of("queued", null, T0, "api"))
                        .execution()
                        .number())
                .isEqualTo(2);
    }
}
