package overseer.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The schema, as numbered steps applied in order, each in its own transaction. A step, once
 * released, is never edited: changes are new steps. Portable SQL only, so that every store shares them.
 */
final class Migrations {
    /*
     * Step 11 drops executions_idempotency: idempotency keys are looked up in idempotency_keys
     * since step 8, so the index was only one more B-tree written by every insert. Binaries from
     * step 8 on never used it, so the oldest reader stays 8.
     */
    /*
     * Step 12 gives each execution its job's concurrency at trigger time (it is in the launch spec,
     * which SQL cannot read portably: {launch.concurrency} is the engine's JSON read of it), so
     * that the queue's claim counts it in the statement, and indexes the state for that claim.
     * Older binaries leave the column empty (no limit for the claim; the server that holds the
     * execution still keeps the limit), so the oldest reader stays 8.
     */
    /*
     * Step 13 makes servers nodes of a cluster: each registers a row in nodes with a lease on the
     * database's clock, and an execution that is starting or running names the node that holds it
     * (node_id), which every write about it checks. A binary without the step would treat every
     * unfinished execution as its own at a restart (ending other nodes' work as lost), so the
     * oldest reader becomes 13: servers of older releases must be stopped before one of this
     * release starts on their database (they ran one per database anyway). {@code needs}: the
     * labels a node must have to claim the execution (its job's {@code nodes}); {@code
     * remote_signals}: signals another node recorded for the node that holds the execution to send.
     */
    private static final List<String> STEPS = List.of("""
            CREATE TABLE job_state (
                job TEXT PRIMARY KEY,
                enabled INTEGER NOT NULL,
                changed_at BIGINT NOT NULL);
            CREATE TABLE job_counters (
                job TEXT PRIMARY KEY,
                last_number BIGINT NOT NULL);
            CREATE TABLE executions (
                job TEXT NOT NULL,
                number BIGINT NOT NULL,
                status TEXT NOT NULL,
                trigger_kind TEXT NOT NULL,
                commit_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                exit_code INTEGER,
                params TEXT NOT NULL,
                secrets TEXT NOT NULL,
                rendered TEXT NOT NULL,
                launch TEXT NOT NULL,
                priority INTEGER NOT NULL,
                scheduled_at BIGINT,
                pid BIGINT,
                run_id TEXT NOT NULL,
                idempotency_key TEXT,
                PRIMARY KEY (job, number));
            CREATE INDEX executions_unfinished ON executions (finished_at, created_at);
            CREATE INDEX executions_idempotency ON executions (job, idempotency_key);
            CREATE TABLE events (
                job TEXT NOT NULL,
                number BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                name TEXT NOT NULL,
                cause TEXT,
                at BIGINT NOT NULL,
                source TEXT NOT NULL,
                PRIMARY KEY (job, number, seq));
            """, """
            ALTER TABLE executions ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
            UPDATE executions SET state = CASE WHEN finished_at IS NOT NULL THEN 'done'
                WHEN started_at IS NOT NULL THEN 'running' ELSE 'queued' END;
            """, """
            CREATE TABLE deliveries (
                id TEXT PRIMARY KEY,
                job TEXT NOT NULL,
                number BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                event TEXT NOT NULL,
                hook_key TEXT NOT NULL,
                url TEXT NOT NULL,
                secret_variable TEXT,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                last_status INTEGER,
                last_error TEXT,
                next_attempt_at BIGINT,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                finished_at BIGINT);
            CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
            CREATE INDEX deliveries_order ON deliveries (hook_key, job, number, seq);
            CREATE INDEX deliveries_execution ON deliveries (job, number, seq);
            """, """
            ALTER TABLE executions ADD COLUMN schedule_id TEXT;
            ALTER TABLE executions ADD COLUMN retry_of BIGINT;
            ALTER TABLE executions ADD COLUMN not_before BIGINT;
            CREATE UNIQUE INDEX executions_fire ON executions (job, schedule_id, scheduled_at);
            CREATE INDEX executions_retry ON executions (job, retry_of);
            CREATE TABLE schedules (
                job TEXT NOT NULL,
                schedule_id TEXT NOT NULL,
                anchor BIGINT NOT NULL,
                cursor BIGINT NOT NULL,
                last_fire BIGINT,
                PRIMARY KEY (job, schedule_id));
            """, """
            ALTER TABLE executions ADD COLUMN triggered_by TEXT;
            """, """
            CREATE INDEX executions_recent ON executions (created_at, job, number);
            """, """
            ALTER TABLE executions ADD COLUMN pending_signals TEXT;
            ALTER TABLE executions ADD COLUMN retry_error TEXT;
            ALTER TABLE executions ADD COLUMN retry_error_at BIGINT;
            """, """
            ALTER TABLE executions ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
            UPDATE executions SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events v
                WHERE v.job = executions.job AND v.number = executions.number);
            CREATE TABLE idempotency_keys (
                job TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                number BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (job, idempotency_key));
            INSERT INTO idempotency_keys (job, idempotency_key, number, created_at)
                SELECT job, idempotency_key, MAX(number), MAX(created_at) FROM executions
                WHERE idempotency_key IS NOT NULL GROUP BY job, idempotency_key;
            CREATE TABLE schema_readers (oldest INTEGER NOT NULL);
            INSERT INTO schema_readers (oldest) VALUES (8);
            """, """
            ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
            ALTER TABLE deliveries ADD COLUMN claimed_until BIGINT;
            """, """
            ALTER TABLE executions ADD COLUMN run_state TEXT;
            UPDATE executions SET run_state = CASE
                WHEN state IN ('queued', 'starting') THEN 'queued'
                WHEN state = 'running' THEN CASE WHEN status = 'stop' THEN 'stopped' ELSE 'running' END
                WHEN state = 'cancelled' THEN CASE WHEN status = 'skipped' THEN 'skipped' ELSE 'cancelled' END
                WHEN status = 'complete' THEN 'succeeded'
                WHEN status = 'time-out' THEN 'timed-out'
                WHEN status = 'lost' THEN 'lost'
                WHEN started_at IS NULL THEN 'cancelled'
                WHEN EXISTS (SELECT 1 FROM events k WHERE k.job = executions.job AND k.number = executions.number
                    AND k.name IN ('terminate', 'kill') AND k.source <> 'overseer') THEN 'killed'
                ELSE 'failed' END;
            CREATE INDEX executions_run_state ON executions (run_state, created_at);
            """, """
            DROP INDEX IF EXISTS executions_idempotency;
            """, """
            ALTER TABLE executions ADD COLUMN concurrency INTEGER;
            UPDATE executions SET concurrency = {launch.concurrency} WHERE state IN ('queued', 'starting', 'running');
            CREATE INDEX executions_state ON executions (state, job);
            """, """
            CREATE TABLE nodes (
                id TEXT PRIMARY KEY,
                url TEXT,
                version TEXT NOT NULL,
                labels TEXT NOT NULL,
                host TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                heartbeat_at BIGINT NOT NULL,
                lease_until BIGINT NOT NULL,
                state TEXT NOT NULL);
            ALTER TABLE executions ADD COLUMN node_id TEXT;
            ALTER TABLE executions ADD COLUMN needs TEXT;
            ALTER TABLE executions ADD COLUMN remote_signals TEXT;
            CREATE INDEX executions_claimable ON executions (priority, created_at) WHERE state = 'queued';
            CREATE INDEX executions_held ON executions (node_id) WHERE state IN ('starting', 'running');
            INSERT INTO schema_readers (oldest) VALUES (13);
            """);

    /**
     * The oldest schema version a binary must know to use a database this far migrated: a step
     * that only adds (a column no one must fill, an index) leaves it, so that a binary of the
     * same minor release without that step still starts (a rolling upgrade); a step that older
     * binaries would break (they would not fill a counter it adds) raises it. Recorded in the
     * database by the step itself ({@code schema_readers}).
     */
    private static final int OLDEST_READER_BEFORE_IT_WAS_RECORDED = 7;

    private Migrations() {}

    private static int oldestReader(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement();
                var rs = s.executeQuery("SELECT MAX(oldest) FROM schema_readers")) {
            return rs.next() ? rs.getInt(1) : OLDEST_READER_BEFORE_IT_WAS_RECORDED;
        } catch (SQLException noTable) {
            return OLDEST_READER_BEFORE_IT_WAS_RECORDED;
        }
    }

    /** How many steps there are: the schema version of a current database. */
    static int latest() {
        return STEPS.size();
    }

    static void apply(Connection connection, Dialect dialect) throws SQLException {
        apply(connection, dialect, STEPS.size());
    }

    /** Applies the steps up to {@code version} on SQLite; tests make databases as earlier releases left them. */
    static void apply(Connection connection, int version) throws SQLException {
        apply(connection, Dialect.SQLITE, version);
    }

    /** Applies the steps up to {@code version}. */
    static void apply(Connection connection, Dialect dialect, int version) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        }
        int current;
        try (Statement s = connection.createStatement();
                var rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            current = rs.next() ? rs.getInt(1) : 0;
        }
        if (current > STEPS.size()) {
            int oldest = oldestReader(connection);
            if (oldest > STEPS.size()) {
                throw new SQLException("the database has schema version " + current + " and needs an Overseer that"
                        + " knows schema version " + oldest + " or later; this one knows " + STEPS.size()
                        + ": use a newer release");
            }
            // Newer, but only by steps that add: this binary reads and writes it as it is.
            return;
        }
        for (int step = current + 1; step <= version; step++) {
            connection.setAutoCommit(false);
            try (Statement s = connection.createStatement()) {
                for (String sql : STEPS.get(step - 1)
                        .replace("{launch.concurrency}", dialect.launchInteger("concurrency"))
                        .split(";")) {
                    if (!sql.isBlank()) {
                        s.execute(sql);
                    }
                }
                s.execute("INSERT INTO schema_version (version) VALUES (" + step + ")");
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }
}
