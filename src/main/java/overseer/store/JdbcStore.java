package overseer.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The store in SQL both engines understand, on the {@link Transactions} of its engine. What
 * differs between them (opening, settings, reclaiming space) is in the subclasses.
 */
public abstract sealed class JdbcStore implements Store permits SqliteStore, PostgresStore {
    private static final String COLUMNS = "job, number, status, trigger_kind, commit_id, created_at, started_at,"
            + " finished_at, exit_code, params, secrets, rendered, launch, priority, scheduled_at, pid, run_id, state,"
            + " schedule_id, retry_of, not_before, triggered_by, pending_signals, retry_error, retry_error_at";

    private static final String DELIVERY_COLUMNS = "id, job, number, seq, event, hook_key, url, secret_variable,"
            + " payload, state, attempts, last_status, last_error, next_attempt_at, created_at, expires_at, finished_at";

    private final Transactions transactions;
    private final Outbox outbox;
    /** The session of the transaction the current thread runs work in. */
    private final ScopedValue<Session> session = ScopedValue.newInstance();

    protected JdbcStore(Transactions transactions, Outbox outbox) {
        this.transactions = transactions;
        this.outbox = outbox;
    }

    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} on committed data; engine-specific statements of subclasses run here too. */
    <T> T read(String what, Work<T> work) {
        return transactions.read(what, s -> ScopedValue.where(session, s).call(work::run));
    }

    /** Runs {@code work} in a transaction and returns once it is committed (see {@link Transactions}). */
    private <T> T write(String what, Work<T> work) {
        return transactions.write(what, s -> ScopedValue.where(session, s).call(work::run));
    }

    /** How many writes wait for the writer that holds the connection; tests hold one to queue others. */
    int queuedWrites() {
        return transactions instanceof GroupCommit g ? g.queuedWrites() : 0;
    }

    private void execute(String sql) throws SQLException {
        session.get().execute(sql);
    }

    Connection connection() {
        return session.get().connection();
    }

    @Override
    public Optional<String> writeFailure() {
        return transactions.failure();
    }

    @Override
    public Optional<Execution> idempotent(String job, String key, Instant now) {
        return read("look up an idempotency key", () -> idempotentLocked(job, key, now));
    }

    private Optional<Execution> idempotentLocked(String job, String key, Instant now) throws SQLException {
        return one(
                "SELECT " + prefixed("e.") + " FROM idempotency_keys k JOIN executions e ON e.job = k.job"
                        + " AND e.number = k.number WHERE k.job = ? AND k.idempotency_key = ? AND k.created_at >= ?",
                job,
                key,
                now.minus(IDEMPOTENCY_WINDOW).toEpochMilli());
    }

    @Override
    public Created create(NewExecution e, Event queued) {
        return write("record an execution", () -> insert(e, queued, Optional.empty()));
    }

    @Override
    public Created skipped(NewExecution e, Event queued, Event skipped) {
        return write("record a skipped execution", () -> insert(e, queued, Optional.of(skipped)));
    }

    @Override
    public List<Inserted> createAll(List<Insert> inserts) {
        return write("record executions", () -> {
            List<Inserted> results = new ArrayList<>(inserts.size());
            for (Insert i : inserts) {
                // Savepoints in SQL, as the transaction itself: the driver stays in auto-commit.
                execute("SAVEPOINT one_insert");
                try {
                    Created created = insert(i.execution(), i.queued(), i.skipped());
                    execute("RELEASE SAVEPOINT one_insert");
                    results.add(new Inserted.Done(created));
                } catch (RuntimeException e) {
                    execute("ROLLBACK TO SAVEPOINT one_insert");
                    execute("RELEASE SAVEPOINT one_insert");
                    results.add(new Inserted.Failed(e));
                }
            }
            return results;
        });
    }

    /** Inserts an execution, queued, or already ended by {@code last}; or finds the one it repeats. */
    /**
     * Inserts an execution, queued, or already ended by {@code last}; or finds the one it repeats.
     * No look-up before the insert: the fire and the idempotency key are unique indexes, and a
     * repeat is the insert that conflicts. Two servers creating the same fire at once then wait
     * for each other on the index, and the second finds the first's execution. A repeat gives
     * its number back: everything it wrote is rolled back to the savepoint.
     */
    private Created insert(NewExecution e, Event queued, Optional<Event> last) throws SQLException {
        execute("SAVEPOINT one_execution");
        try {
            Optional<Created> made = insertOrRepeat(e, queued, last);
            if (made.isEmpty()) {
                execute("ROLLBACK TO SAVEPOINT one_execution");
            }
            execute("RELEASE SAVEPOINT one_execution");
            return made.isPresent() ? made.get() : repeated(e);
        } catch (SQLException | RuntimeException | Error failure) {
            try {
                execute("ROLLBACK TO SAVEPOINT one_execution");
                execute("RELEASE SAVEPOINT one_execution");
            } catch (SQLException rollback) {
                failure.addSuppressed(rollback);
            }
            throw failure;
        }
    }

    /** The execution that {@code e} repeats: the one its fire, or its idempotency key, made before. */
    private Created repeated(NewExecution e) throws SQLException {
        Optional<Execution> earlier = Optional.empty();
        if (e.origin().scheduleId().isPresent() && e.scheduledAt().isPresent()) {
            earlier = one(
                    "SELECT " + COLUMNS + " FROM executions WHERE job = ? AND schedule_id = ? AND scheduled_at = ?",
                    e.job(),
                    e.origin().scheduleId().get(),
                    e.scheduledAt().get().toEpochMilli());
        }
        if (earlier.isEmpty() && e.idempotencyKey().isPresent()) {
            earlier = idempotentLocked(e.job(), e.idempotencyKey().get(), e.createdAt());
        }
        return new Created(
                earlier.orElseThrow(() -> new SQLException(
                        "store: the execution " + e.job() + " repeats was not found after its insert conflicted")),
                true);
    }

    /** The insert, or empty when it conflicted with the execution it repeats. */
    private Optional<Created> insertOrRepeat(NewExecution e, Event queued, Optional<Event> last) throws SQLException {
        long number;
        try (PreparedStatement s = session.get()
                .prepare("INSERT INTO job_counters (job, last_number) VALUES (?, 1) ON CONFLICT (job)"
                        + " DO UPDATE SET last_number = job_counters.last_number + 1 RETURNING last_number")) {
            s.setString(1, e.job());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                number = rs.getLong(1);
            }
        }
        NewExecution.Prepared prepared = e.prepare().apply(number);
        int inserted = count(
                "INSERT INTO executions (" + COLUMNS + ", idempotency_key)"
                        + " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL, ?, 'queued',"
                        + " ?, ?, ?, ?, NULL, NULL, NULL, ?) ON CONFLICT (job, schedule_id, scheduled_at) DO NOTHING",
                e.job(),
                number,
                queued.name(),
                e.trigger(),
                e.commit(),
                e.createdAt().toEpochMilli(),
                e.paramsJson(),
                e.secretsJson(),
                prepared.rendered(),
                prepared.launchJson(),
                e.priority(),
                e.scheduledAt().map(Instant::toEpochMilli).orElse(null),
                e.runId(),
                e.origin().scheduleId().orElse(null),
                e.origin().retryOf().isPresent() ? e.origin().retryOf().getAsLong() : null,
                e.origin().notBefore().map(Instant::toEpochMilli).orElse(null),
                e.origin().triggeredBy().orElse(null),
                e.idempotencyKey().orElse(null));
        if (inserted == 0) {
            return Optional.empty();
        }
        if (e.idempotencyKey().isPresent()
                && count(
                                "INSERT INTO idempotency_keys (job, idempotency_key, number, created_at) VALUES (?, ?, ?, ?)"
                                        + " ON CONFLICT (job, idempotency_key) DO UPDATE SET number = excluded.number,"
                                        + " created_at = excluded.created_at WHERE idempotency_keys.created_at < ?",
                                e.job(),
                                e.idempotencyKey().get(),
                                number,
                                e.createdAt().toEpochMilli(),
                                e.createdAt().minus(IDEMPOTENCY_WINDOW).toEpochMilli())
                        == 0) {
            return Optional.empty();
        }
        appendEvent(e.job(), number, queued);
        if (last.isPresent()) {
            move(
                    e.job(),
                    number,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}'",
                    last.get().name(),
                    last.get().at().toEpochMilli());
            appendEvent(e.job(), number, last.get());
        }
        return Optional.of(new Created(
                one("SELECT " + COLUMNS + " FROM executions WHERE job = ? AND number = ?", e.job(), number)
                        .orElseThrow(),
                false));
    }

    @Override
    public Optional<ScheduleState> scheduleState(String job, String scheduleId) {
        return read("read a schedule", () -> {
            try (PreparedStatement s = prepare(
                            "SELECT anchor, cursor, last_fire FROM schedules WHERE job = ? AND schedule_id = ?",
                            job,
                            scheduleId);
                    ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.<ScheduleState>empty();
                }
                return Optional.of(new ScheduleState(
                        Instant.ofEpochMilli(rs.getLong(1)), Instant.ofEpochMilli(rs.getLong(2)), instant(rs, 3)));
            }
        });
    }

    @Override
    public void saveScheduleState(String job, String scheduleId, ScheduleState state) {
        write("record a schedule", () -> {
            update(
                    "INSERT INTO schedules (job, schedule_id, anchor, cursor, last_fire) VALUES (?, ?, ?, ?, ?)"
                            + " ON CONFLICT (job, schedule_id) DO UPDATE SET anchor = excluded.anchor,"
                            + " cursor = excluded.cursor, last_fire = excluded.last_fire",
                    job,
                    scheduleId,
                    state.anchor().toEpochMilli(),
                    state.cursor().toEpochMilli(),
                    state.lastFire().map(Instant::toEpochMilli).orElse(null));
            return null;
        });
    }

    @Override
    public List<Execution> retryChain(String job, long first) {
        return read(
                "read a retry chain",
                () -> many(
                        "SELECT " + COLUMNS + " FROM executions WHERE job = ? AND (number = ? OR retry_of = ?)"
                                + " ORDER BY number",
                        job,
                        first,
                        first));
    }

    @Override
    public Optional<Execution> execution(String job, long number) {
        return read(
                "read an execution",
                () -> one("SELECT " + COLUMNS + " FROM executions WHERE job = ? AND number = ?", job, number));
    }

    @Override
    public List<Execution> executions(String job, ExecutionQuery q) {
        return read("list executions", () -> {
            StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM executions WHERE job = ?");
            List<Object> args = new ArrayList<>(List.of(job));
            if (q.before().isPresent()) {
                sql.append(" AND number < ?");
                args.add(q.before().getAsLong());
            }
            if (q.status().isPresent()) {
                sql.append(" AND status = ?");
                args.add(q.status().get());
            }
            if (q.trigger().isPresent()) {
                sql.append(" AND trigger_kind = ?");
                args.add(q.trigger().get());
            }
            sql.append(" ORDER BY number DESC LIMIT ?");
            args.add(q.limit());
            return many(sql.toString(), args.toArray());
        });
    }

    @Override
    public List<Execution> recent(
            Optional<String> status, Optional<String> trigger, Optional<Cursor> before, int limit) {
        return read("list recent executions", () -> {
            StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM executions WHERE 1 = 1");
            List<Object> args = new ArrayList<>();
            if (before.isPresent()) {
                Cursor c = before.get();
                sql.append(" AND (created_at, job, number) < (?, ?, ?)");
                args.addAll(List.of(c.createdAtMillis(), c.job(), c.number()));
            }
            if (status.isPresent()) {
                sql.append(" AND status = ?");
                args.add(status.get());
            }
            if (trigger.isPresent()) {
                sql.append(" AND trigger_kind = ?");
                args.add(trigger.get());
            }
            sql.append(" ORDER BY created_at DESC, job DESC, number DESC LIMIT ?");
            args.add(limit);
            return many(sql.toString(), args.toArray());
        });
    }

    @Override
    public Map<String, Execution> latest() {
        return read("read the latest executions", () -> {
            Map<String, Execution> latest = new LinkedHashMap<>();
            // A join on the counters: one primary-key look-up per job, not a scan per execution.
            for (Execution e : many("SELECT " + prefixed("e.") + " FROM job_counters c JOIN executions e"
                    + " ON e.job = c.job AND e.number = c.last_number ORDER BY c.job")) {
                latest.put(e.job(), e);
            }
            return latest;
        });
    }

    @Override
    public List<Execution> unfinished() {
        return read(
                "list unfinished executions",
                () -> many("SELECT " + COLUMNS + " FROM executions WHERE finished_at IS NULL ORDER BY created_at, job,"
                        + " number"));
    }

    @Override
    public void starting(String job, long number) {
        write("record a starting execution", () -> {
            move(job, number, ExecutionState.QUEUED, ExecutionState.STARTING, "");
            return null;
        });
    }

    @Override
    public void started(String job, long number, long processGroup, Event start) {
        write("record a start", () -> {
            move(
                    job,
                    number,
                    ExecutionState.STARTING,
                    ExecutionState.RUNNING,
                    ", started_at = ?, pid = ?, status = ?, pending_signals = NULL",
                    start.at().toEpochMilli(),
                    processGroup,
                    start.name());
            appendEvent(job, number, start);
            return null;
        });
    }

    @Override
    public boolean event(String job, long number, Event event) {
        return write("record an event", () -> {
            int changed = count(
                    "UPDATE executions SET status = ? WHERE job = ? AND number = ? AND finished_at IS NULL",
                    event.name(),
                    job,
                    number);
            if (changed == 0) {
                return false;
            }
            appendEvent(job, number, event);
            return true;
        });
    }

    @Override
    public void finished(
            String job,
            long number,
            ExecutionState from,
            OptionalInt exitCode,
            Event last,
            Optional<Execution.RetryError> retryError) {
        ExecutionState recorded = from == ExecutionState.ENDING ? ExecutionState.RUNNING : from;
        write("record the end of an execution", () -> {
            move(
                    job,
                    number,
                    recorded,
                    ExecutionState.DONE,
                    ", status = ?, finished_at = ?, exit_code = ?, secrets = '{}', launch = '{}',"
                            + " pending_signals = NULL, retry_error = ?, retry_error_at = ?",
                    last.name(),
                    last.at().toEpochMilli(),
                    exitCode.isPresent() ? exitCode.getAsInt() : null,
                    retryError.map(Execution.RetryError::cause).orElse(null),
                    retryError.map(r -> r.at().toEpochMilli()).orElse(null));
            appendEvent(job, number, last);
            return null;
        });
    }

    @Override
    public void signalPending(String job, long number, Event signal) {
        write("record a signal to a starting execution", () -> {
            int changed = count(
                    "UPDATE executions SET status = ?, pending_signals = CASE WHEN pending_signals IS NULL THEN ?"
                            + " ELSE pending_signals || ',' || ? END WHERE job = ? AND number = ? AND state IN (?, ?)",
                    signal.name(),
                    signal.name(),
                    signal.name(),
                    job,
                    number,
                    ExecutionState.STARTING.column(),
                    // The run commits its start and only then takes the process group: a signal
                    // in between finds the row running and the run still without the process;
                    // the run sends it once it has the group. (A restart finds a running row
                    // lost and kills its processes, so the kept name is not needed there.)
                    ExecutionState.RUNNING.column());
            if (changed != 1) {
                throw new StaleState("store: execution " + job + "/" + number + " is not starting; cannot keep '"
                        + signal.name() + "' for its start");
            }
            appendEvent(job, number, signal);
            return null;
        });
    }

    @Override
    public void cancelled(String job, long number, Event signal, Event last) {
        write("record a cancelled execution", () -> {
            move(
                    job,
                    number,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}'",
                    last.name(),
                    last.at().toEpochMilli());
            appendEvent(job, number, signal);
            appendEvent(job, number, last);
            return null;
        });
    }

    @Override
    public void cancelled(String job, long number, Event last) {
        write("record a cancelled execution", () -> {
            move(
                    job,
                    number,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}'",
                    last.name(),
                    last.at().toEpochMilli());
            appendEvent(job, number, last);
            return null;
        });
    }

    /**
     * The one guarded state change: {@code from} → {@code to} plus {@code set}, or {@link
     * StaleState} when the row is in another state (the transaction then rolls back).
     */
    private void move(String job, long number, ExecutionState from, ExecutionState to, String set, Object... values)
            throws SQLException {
        if (!from.canMoveTo(to)) {
            throw new IllegalArgumentException("no move from " + from + " to " + to);
        }
        Object[] args = new Object[values.length + 4];
        args[0] = to.column();
        System.arraycopy(values, 0, args, 1, values.length);
        args[values.length + 1] = job;
        args[values.length + 2] = number;
        args[values.length + 3] = from.column();
        int changed =
                count("UPDATE executions SET state = ?" + set + " WHERE job = ? AND number = ? AND state = ?", args);
        if (changed != 1) {
            String actual = one("SELECT " + COLUMNS + " FROM executions WHERE job = ? AND number = ?", job, number)
                    .map(e -> e.state().column())
                    .orElse("missing");
            throw new StaleState("store: execution " + job + "/" + number + " is " + actual + ", not " + from.column()
                    + "; cannot make it " + to.column());
        }
    }

    private static String prefixed(String alias) {
        return alias + COLUMNS.replace(", ", ", " + alias);
    }

    @Override
    public List<Event> events(String job, long number) {
        return read("read events", () -> events("WHERE job = ? AND number = ? ORDER BY seq", job, number));
    }

    @Override
    public Optional<Event> latestEvent(String job, long number, String name) {
        return read(
                "read an event",
                () ->
                        events("WHERE job = ? AND number = ? AND name = ? ORDER BY seq DESC LIMIT 1", job, number, name)
                                .stream()
                                .findFirst());
    }

    @Override
    public List<Delivery> dueDeliveries(Instant now, Set<String> excluded, Set<String> fullHooks, int limit) {
        return read("list due deliveries", () -> {
            List<Object> args = new ArrayList<>();
            args.add(now.toEpochMilli());
            StringBuilder sql = new StringBuilder("SELECT " + DELIVERY_COLUMNS
                    + " FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= ?"
                    + " AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.hook_key = d.hook_key AND p.job = d.job"
                    + " AND p.number = d.number AND p.seq < d.seq AND p.state = 'pending')");
            if (!excluded.isEmpty()) {
                sql.append(" AND d.id NOT IN (")
                        .append(String.join(", ", java.util.Collections.nCopies(excluded.size(), "?")))
                        .append(")");
                args.addAll(excluded);
            }
            if (!fullHooks.isEmpty()) {
                sql.append(" AND d.hook_key NOT IN (")
                        .append(String.join(", ", java.util.Collections.nCopies(fullHooks.size(), "?")))
                        .append(")");
                args.addAll(fullHooks);
            }
            sql.append(" ORDER BY d.next_attempt_at, d.created_at LIMIT ?");
            args.add(limit);
            return deliveryList(sql.toString(), args.toArray());
        });
    }

    @Override
    public Backlog deliveryBacklog() {
        return read("count pending deliveries", () -> {
            try (PreparedStatement s =
                            prepare("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'");
                    ResultSet rs = s.executeQuery()) {
                rs.next();
                return new Backlog(rs.getLong(1), instant(rs, 2));
            }
        });
    }

    @Override
    public Optional<Instant> nextDeliveryDue() {
        return read("find the next delivery", () -> {
            try (PreparedStatement s = prepare("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'");
                    ResultSet rs = s.executeQuery()) {
                return rs.next() ? instant(rs, 1) : Optional.<Instant>empty();
            }
        });
    }

    @Override
    public void deliveriesAttempted(Map<String, Delivery.Attempt> attempts) {
        write("record delivery attempts", () -> {
            try (PreparedStatement s = session.get()
                    .prepare(
                            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?,"
                                    + " next_attempt_at = ?, finished_at = ? WHERE id = ?")) {
                for (Map.Entry<String, Delivery.Attempt> e : attempts.entrySet()) {
                    Delivery.Attempt a = e.getValue();
                    s.setString(1, a.state().column());
                    setNullable(s, 2, a.status().isPresent() ? (long) a.status().getAsInt() : null);
                    s.setString(3, a.error().orElse(null));
                    setNullable(s, 4, a.nextAttempt().map(Instant::toEpochMilli).orElse(null));
                    setNullable(s, 5, a.state() == Delivery.State.PENDING ? null : a.at().toEpochMilli());
                    s.setString(6, e.getKey());
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    private static void setNullable(PreparedStatement s, int index, Long value) throws SQLException {
        if (value == null) {
            s.setNull(index, Types.BIGINT);
        } else {
            s.setLong(index, value);
        }
    }

    @Override
    public Optional<Delivery> delivery(String id) {
        return read(
                "read a delivery",
                () -> deliveryList("SELECT " + DELIVERY_COLUMNS + " FROM deliveries WHERE id = ?", id).stream()
                        .findFirst());
    }

    @Override
    public List<Delivery> deliveries(String job, long number) {
        return read(
                "list deliveries",
                () -> deliveryList(
                        "SELECT " + DELIVERY_COLUMNS
                                + " FROM deliveries WHERE job = ? AND number = ? ORDER BY seq, url",
                        job,
                        number));
    }

    @Override
    public List<Delivery> deliveries(Optional<String> state, int limit) {
        return read("list deliveries", () -> {
            String where = state.map(st ->
                            st.equals("failing") ? " WHERE state = 'pending' AND attempts > 0" : " WHERE state = ?")
                    .orElse("");
            List<Object> args = new ArrayList<>();
            state.filter(st -> !st.equals("failing")).ifPresent(args::add);
            args.add(limit);
            return deliveryList(
                    "SELECT " + DELIVERY_COLUMNS + " FROM deliveries" + where + " ORDER BY created_at DESC, id LIMIT ?",
                    args.toArray());
        });
    }

    @Override
    public boolean redeliver(String id, Instant now, Instant expiresAt) {
        return write(
                "resend a delivery",
                () -> count(
                                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, expires_at = ?,"
                                        + " finished_at = NULL WHERE id = ? AND state IN ('failed', 'expired')",
                                now.toEpochMilli(),
                                expiresAt.toEpochMilli(),
                                id)
                        == 1);
    }

    private List<Delivery> deliveryList(String sql, Object... args) throws SQLException {
        List<Delivery> found = new ArrayList<>();
        try (PreparedStatement s = prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.add(new Delivery(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        Optional.ofNullable(rs.getString(8)),
                        rs.getString(9),
                        Delivery.State.ofColumn(rs.getString(10)),
                        rs.getInt(11),
                        rs.getObject(12) == null ? OptionalInt.empty() : OptionalInt.of(rs.getInt(12)),
                        Optional.ofNullable(rs.getString(13)),
                        instant(rs, 14),
                        Instant.ofEpochMilli(rs.getLong(15)),
                        Instant.ofEpochMilli(rs.getLong(16)),
                        instant(rs, 17)));
            }
        }
        return found;
    }

    /**
     * What retention may remove (see {@link Store#prunable}), from {@code FROM} on, with three
     * arguments: the youngest creation time, the age limit and the per-job count.
     */
    private static final String PRUNABLE = " FROM executions e JOIN job_counters c ON c.job = e.job"
            + " WHERE e.finished_at IS NOT NULL AND e.created_at < ?"
            + " AND (e.created_at < ? OR e.number <= c.last_number - ?)"
            + " AND e.number <> c.last_number"
            + " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.job = e.job"
            + " AND d.number = e.number AND d.state = 'pending')"
            + " AND NOT EXISTS (SELECT 1 FROM executions r WHERE r.job = e.job"
            + " AND r.retry_of = COALESCE(e.retry_of, e.number) AND r.finished_at IS NULL)";

    @Override
    public List<Prunable> prunable(Instant keepAfter, int perJob, Instant youngest, int limit) {
        return read("find old executions", () -> {
            List<Prunable> found = new ArrayList<>();
            try (PreparedStatement s = prepare(
                            "SELECT e.job, e.number" + PRUNABLE + " ORDER BY e.created_at LIMIT ?",
                            youngest.toEpochMilli(),
                            keepAfter.toEpochMilli(),
                            (long) perJob,
                            limit);
                    ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    found.add(new Prunable(rs.getString(1), rs.getLong(2)));
                }
            }
            return found;
        });
    }

    @Override
    public List<Prunable> remove(List<Prunable> candidates, Instant keepAfter, int perJob, Instant youngest) {
        return write("remove old executions", () -> {
            // Checked again in the removing transaction: since they were listed, a delivery may
            // have been sent again or a retry queued.
            List<Prunable> going = new ArrayList<>();
            for (Prunable p : candidates) {
                try (PreparedStatement s = prepare(
                                "SELECT 1" + PRUNABLE + " AND e.job = ? AND e.number = ?",
                                youngest.toEpochMilli(),
                                keepAfter.toEpochMilli(),
                                (long) perJob,
                                p.job(),
                                p.number());
                        ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        going.add(p);
                    }
                }
            }
            for (String table : List.of("events", "deliveries", "idempotency_keys", "executions")) {
                try (PreparedStatement s =
                        connection().prepareStatement("DELETE FROM " + table + " WHERE job = ? AND number = ?")) {
                    for (Prunable p : going) {
                        s.setString(1, p.job());
                        s.setLong(2, p.number());
                        s.addBatch();
                    }
                    s.executeBatch();
                }
            }
            return List.copyOf(going);
        });
    }

    @Override
    public Set<String> disabledJobs() {
        return read("read job states", () -> {
            Set<String> disabled = new HashSet<>();
            try (PreparedStatement s = connection().prepareStatement("SELECT job FROM job_state WHERE enabled = 0");
                    ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    disabled.add(rs.getString(1));
                }
            }
            return disabled;
        });
    }

    @Override
    public void setEnabled(String job, boolean enabled, Instant at) {
        write("record a job state", () -> {
            update(
                    "INSERT INTO job_state (job, enabled, changed_at) VALUES (?, ?, ?) ON CONFLICT (job)"
                            + " DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at",
                    job,
                    enabled ? 1 : 0,
                    at.toEpochMilli());
            return null;
        });
    }

    @Override
    public void close() {
        transactions.close();
    }

    /** Appends an event and, in the same transaction, the webhook deliveries it makes. */
    private void appendEvent(String job, long number, Event event) throws SQLException {
        // Numbered from the execution's row, which the transaction then holds: two writers to
        // one execution wait for each other there rather than both take MAX(seq) + 1.
        long seq;
        try (PreparedStatement s = prepare(
                        "UPDATE executions SET last_seq = last_seq + 1 WHERE job = ? AND number = ? RETURNING last_seq",
                        job,
                        number);
                ResultSet rs = s.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("store: execution " + job + "/" + number + " is not recorded");
            }
            seq = rs.getLong(1);
        }
        update(
                "INSERT INTO events (job, number, seq, name, cause, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                job,
                number,
                seq,
                event.name(),
                event.cause().orElse(null),
                event.at().toEpochMilli(),
                event.source());
        if (!outbox.wants(job, event.name())) {
            return;
        }
        Execution after = one("SELECT " + COLUMNS + " FROM executions WHERE job = ? AND number = ?", job, number)
                .orElseThrow();
        for (Delivery.New d : outbox.deliveries(after, event)) {
            update(
                    "INSERT INTO deliveries (" + DELIVERY_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0,"
                            + " NULL, NULL, ?, ?, ?, NULL)",
                    d.id(),
                    job,
                    number,
                    seq,
                    event.name(),
                    d.hookKey(),
                    d.url(),
                    d.secretVariable().orElse(null),
                    d.payload(),
                    event.at().toEpochMilli(),
                    event.at().toEpochMilli(),
                    d.expiresAt().toEpochMilli());
        }
    }

    private List<Event> events(String where, Object... args) throws SQLException {
        List<Event> events = new ArrayList<>();
        try (PreparedStatement s = prepare("SELECT name, cause, at, source FROM events " + where, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                events.add(new Event(
                        rs.getString(1),
                        Optional.ofNullable(rs.getString(2)),
                        Instant.ofEpochMilli(rs.getLong(3)),
                        rs.getString(4)));
            }
        }
        return events;
    }

    private Optional<Execution> one(String sql, Object... args) throws SQLException {
        List<Execution> found = many(sql, args);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }

    private List<Execution> many(String sql, Object... args) throws SQLException {
        List<Execution> found = new ArrayList<>();
        try (PreparedStatement s = prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.add(new Execution(
                        rs.getString(1),
                        rs.getLong(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        Instant.ofEpochMilli(rs.getLong(6)),
                        instant(rs, 7),
                        instant(rs, 8),
                        rs.getObject(9) == null ? OptionalInt.empty() : OptionalInt.of(rs.getInt(9)),
                        rs.getString(10),
                        rs.getString(11),
                        rs.getString(12),
                        rs.getString(13),
                        rs.getInt(14),
                        instant(rs, 15),
                        rs.getObject(16) == null ? OptionalLong.empty() : OptionalLong.of(rs.getLong(16)),
                        rs.getString(17),
                        ExecutionState.ofColumn(rs.getString(18)),
                        Optional.ofNullable(rs.getString(19)),
                        rs.getObject(20) == null ? OptionalLong.empty() : OptionalLong.of(rs.getLong(20)),
                        instant(rs, 21),
                        Optional.ofNullable(rs.getString(22)),
                        rs.getString(23) == null
                                ? List.of()
                                : List.of(rs.getString(23).split(",")),
                        rs.getString(24) == null
                                ? Optional.empty()
                                : Optional.of(new Execution.RetryError(
                                        rs.getString(24), Instant.ofEpochMilli(rs.getLong(25))))));
            }
        }
        return found;
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    private void update(String sql, Object... args) throws SQLException {
        count(sql, args);
    }

    private int count(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = prepare(sql, args)) {
            return s.executeUpdate();
        }
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement s = session.get().prepare(sql);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            switch (a) {
                case null -> s.setNull(i + 1, Types.NULL);
                case String text -> s.setString(i + 1, text);
                case Long l -> s.setLong(i + 1, l);
                case Integer n -> s.setInt(i + 1, n);
                default -> throw new IllegalArgumentException("unsupported SQL argument " + a.getClass());
            }
        }
        return s;
    }
}
