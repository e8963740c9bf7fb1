package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database left by each earlier release (the schema at every earlier migration step, with rows
 * in every table it had) opens on this one: the remaining steps apply, every row reads back as it
 * was written, and new work continues from it.
 */
class MigrationUpgradeTest {
    private static final Instant T = Instant.parse("2026-11-01T10:00:00Z");

    @TempDir
    Path tmp;

    /** One engine's databases: a connection to a new one, and the store on it. */
    private interface Engine {
        Connection create(int step) throws Exception;

        Store open(int step);

        Connection connect(int step) throws Exception;

        default void cleanUp() {}

        Dialect dialect();
    }

    private Engine sqlite() {
        return new Engine() {
            private Path file(int step) {
                return tmp.resolve("at-step-" + step + ".db");
            }

            @Override
            public Connection create(int step) throws Exception {
                return connect(step);
            }

            @Override
            public Store open(int step) {
                return SqliteStore.open(file(step));
            }

            @Override
            public Dialect dialect() {
                return Dialect.SQLITE;
            }

            @Override
            public Connection connect(int step) throws Exception {
                return DriverManager.getConnection("jdbc:sqlite:" + file(step));
            }
        };
    }

    private static Engine postgres() {
        overseer.testing.TestPostgres.assumeReachable();
        return new Engine() {
            private final java.util.Map<Integer, String> databases = new java.util.HashMap<>();

            @Override
            public Connection create(int step) throws Exception {
                databases.put(step, overseer.testing.TestPostgres.create());
                return connect(step);
            }

            @Override
            public Store open(int step) {
                return PostgresStore.open(
                        overseer.testing.TestPostgres.location(databases.get(step)), Optional.empty(), Outbox.NONE);
            }

            @Override
            public Connection connect(int step) throws Exception {
                return overseer.testing.TestPostgres.connect(databases.get(step));
            }

            @Override
            public void cleanUp() {
                databases.values().forEach(overseer.testing.TestPostgres::drop);
            }

            @Override
            public Dialect dialect() {
                return Dialect.POSTGRESQL;
            }
        };
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"sqlite", "postgresql"})
    void aDatabaseAtEveryEarlierStepUpgradesWithItsRows(String engineName) throws Exception {
        Engine engine = engineName.equals("sqlite") ? sqlite() : postgres();
        try {
            upgradeEveryStep(engine);
        } finally {
            engine.cleanUp();
        }
    }

    private static void upgradeEveryStep(Engine engine) throws Exception {
        assertThat(Migrations.latest()).isGreaterThan(1);
        for (int step = 1; step < Migrations.latest(); step++) {
            try (Connection c = engine.create(step)) {
                Migrations.apply(c, engine.dialect(), step);
                fill(c, step);
            }
            try (Store store = engine.open(step)) {
                check(store, step);
            }
            try (Connection c = engine.connect(step);
                    Statement s = c.createStatement();
                    var rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                rs.next();
                assertThat(rs.getInt(1)).as("schema after step %d", step).isEqualTo(Migrations.latest());
            }
        }
    }

    /** Rows as a server at {@code step} wrote them: a finished, a running and a queued execution. */
    private static void fill(Connection c, int step) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO job_state VALUES ('alpha', 0, " + T.toEpochMilli() + ")");
            s.execute("INSERT INTO job_counters VALUES ('alpha', 3)");
        }
        String columns = "job, number, status, trigger_kind, commit_id, created_at, started_at, finished_at,"
                + " exit_code, params, secrets, rendered, launch, priority, scheduled_at, pid, run_id,"
                + " idempotency_key" + (step >= 2 ? ", state" : "");
        String marks = "?, ".repeat(17) + "?" + (step >= 2 ? ", ?" : "");
        try (PreparedStatement p =
                c.prepareStatement("INSERT INTO executions (" + columns + ") VALUES (" + marks + ")")) {
            row(p, step, 1, "complete", T, T.plusSeconds(1), T.plusSeconds(2), 0, "done");
            row(p, step, 2, "start", T.plusSeconds(3), T.plusSeconds(4), null, null, "running");
            row(p, step, 3, "queued", T.plusSeconds(5), null, null, null, "queued");
        }
        try (Statement s = c.createStatement()) {
            s.execute("UPDATE executions SET idempotency_key = 'key-3' WHERE number = 3");
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO events VALUES ('alpha', ?, ?, ?, ?, ?, 'api')")) {
            event(p, 1, 0, "queued", null, T);
            event(p, 1, 1, "start", null, T.plusSeconds(1));
            event(p, 1, 2, "complete", "exit code 0", T.plusSeconds(2));
            event(p, 2, 0, "queued", null, T.plusSeconds(3));
            event(p, 2, 1, "start", null, T.plusSeconds(4));
            event(p, 3, 0, "queued", null, T.plusSeconds(5));
        }
        try (Statement s = c.createStatement()) {
            if (step >= 3) {
                s.execute("INSERT INTO deliveries (id, job, number, seq, event, hook_key, url, secret_variable,"
                        + " payload, state, attempts, last_status, last_error, next_attempt_at, created_at, expires_at,"
                        + " finished_at) VALUES ('d-1', 'alpha', 1, 2, 'complete', 'hook-a',"
                        + " 'http://127.0.0.1:9/hook', NULL, '{\"event\":\"complete\"}', 'pending', 1, 500, 'HTTP 500',"
                        + T.plusSeconds(10).toEpochMilli() + ", "
                        + T.plusSeconds(2).toEpochMilli() + ", "
                        + T.plusSeconds(86_400).toEpochMilli() + ", NULL)");
            }
            if (step >= 4) {
                s.execute("INSERT INTO schedules VALUES ('alpha', 's-1', " + T.toEpochMilli() + ", "
                        + T.plusSeconds(60).toEpochMilli() + ", " + T.toEpochMilli() + ")");
            }
            if (step >= 5) {
                s.execute("UPDATE executions SET triggered_by = 'deployer' WHERE number = 1");
            }
            if (step >= 8) {
                // Keys in their own table, and each execution's event count in its row.
                s.execute("INSERT INTO idempotency_keys VALUES ('alpha', 'key-3', 3, "
                        + T.plusSeconds(5).toEpochMilli() + ")");
                s.execute("UPDATE executions SET last_seq = (SELECT MAX(seq) FROM events v"
                        + " WHERE v.job = executions.job AND v.number = executions.number)");
            }
        }
    }

    private static void row(
            PreparedStatement p,
            int step,
            long number,
            String status,
            Instant created,
            Instant started,
            Instant finished,
            Integer exit,
            String state)
            throws Exception {
        p.setString(1, "alpha");
        p.setLong(2, number);
        p.setString(3, status);
        p.setString(4, "api");
        p.setString(5, "c0ffee");
        p.setLong(6, created.toEpochMilli());
        p.setObject(7, started == null ? null : started.toEpochMilli());
        p.setObject(8, finished == null ? null : finished.toEpochMilli());
        p.setObject(9, exit);
        p.setString(10, "{\"who\":\"world\"}");
        p.setString(11, "{}");
        p.setString(12, "echo hello world");
        p.setString(13, "{}");
        p.setInt(14, 0);
        p.setObject(15, null);
        p.setObject(16, started == null ? null : 4242L + number);
        p.setString(17, "run-" + number);
        p.setObject(18, null);
        if (step >= 2) {
            p.setString(19, state);
        }
        p.executeUpdate();
    }

    private static void event(PreparedStatement p, long number, long seq, String name, String cause, Instant at)
            throws Exception {
        p.setLong(1, number);
        p.setLong(2, seq);
        p.setString(3, name);
        p.setString(4, cause);
        p.setLong(5, at.toEpochMilli());
        p.executeUpdate();
    }

    private static void check(Store store, int step) {
        String at = "upgraded from step " + step;
        Execution done = store.execution("alpha", 1).orElseThrow();
        assertThat(done.state()).as(at).isEqualTo(ExecutionState.DONE);
        assertThat(done.status()).as(at).isEqualTo("complete");
        assertThat(done.exitCode()).as(at).isEqualTo(OptionalInt.of(0));
        assertThat(done.finishedAt()).as(at).contains(T.plusSeconds(2));
        assertThat(done.paramsJson()).as(at).isEqualTo("{\"who\":\"world\"}");
        assertThat(done.pendingSignals()).as(at).isEmpty();
        assertThat(done.retryError()).as(at).isEmpty();
        assertThat(done.triggeredBy()).as(at).isEqualTo(step >= 5 ? Optional.of("deployer") : Optional.empty());
        assertThat(store.events("alpha", 1))
                .as(at)
                .extracting(Event::name)
                .containsExactly("queued", "start", "complete");
        // Each row's state, filled in from its lifecycle state and latest event.
        assertThat(java.util.stream.LongStream.rangeClosed(1, 3)
                        .mapToObj(n -> store.execution("alpha", n).orElseThrow().runState()))
                .as(at)
                .containsExactly(RunState.SUCCEEDED, RunState.RUNNING, RunState.QUEUED);
        Execution running = store.execution("alpha", 2).orElseThrow();
        assertThat(running.state()).as(at).isEqualTo(ExecutionState.RUNNING);
        assertThat(running.pid()).as(at).hasValue(4244L);
        assertThat(store.execution("alpha", 3).orElseThrow().state()).as(at).isEqualTo(ExecutionState.QUEUED);
        assertThat(store.unfinished()).as(at).extracting(Execution::number).containsExactlyInAnyOrder(2L, 3L);
        assertThat(store.disabledJobs()).as(at).containsExactly("alpha");
        if (step >= 3) {
            Delivery delivery = store.delivery("d-1").orElseThrow();
            assertThat(delivery.state()).as(at).isEqualTo(Delivery.State.PENDING);
            assertThat(delivery.attempts()).as(at).isEqualTo(1);
            assertThat(store.claimDeliveries(
                            "upgraded", T.plusSeconds(11), T.plusSeconds(71), Store.HookRoom.unlimited(), 10))
                    .as(at)
                    .extracting(Delivery::id)
                    .containsExactly("d-1");
        }
        if (step >= 4) {
            assertThat(store.scheduleState("alpha", "s-1"))
                    .as(at)
                    .contains(new ScheduleState(T, T.plusSeconds(60), Optional.of(T)));
        }
        // The key the queued execution was made with still answers with it; events continue
        // after the execution's last one.
        assertThat(store.idempotent("alpha", "key-3", T.plusSeconds(60)))
                .as(at)
                .map(Execution::number)
                .contains(3L);
        Store.Created again = store.create(
                StoreContract.newExecution("alpha", T.plusSeconds(60), Optional.of("key-3")),
                Event.of("queued", null, T.plusSeconds(60), "api"));
        assertThat(again.existing()).as(at).isTrue();
        assertThat(store.event("alpha", 2, Event.of("progress", null, T.plusSeconds(61), "job")))
                .as(at)
                .isTrue();
        assertThat(store.events("alpha", 2))
                .as(at)
                .extracting(Event::name)
                .containsExactly("queued", "start", "progress");
        // New work continues after what was there.
        Store.Created next = store.create(
                StoreContract.newExecution("alpha", T.plusSeconds(100), Optional.empty()),
                Event.of("queued", null, T.plusSeconds(100), "api"));
        assertThat(next.execution().number()).as(at).isEqualTo(4);
    }
}
