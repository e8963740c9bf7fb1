package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Executions: their rows, each job's counter and the idempotency keys that point at them, and
 * the one guarded state change ({@link #move}).
 */
final class ExecutionRows {
    static final String COLUMNS = "job, number, status, trigger_kind, commit_id, created_at, started_at,"
            + " finished_at, exit_code, params, secrets, rendered, launch, priority, scheduled_at, pid, run_id, state,"
            + " schedule_id, retry_of, not_before, triggered_by, pending_signals, retry_error, retry_error_at, run_state, node_id, needs";

    private final Sql db;
    private final Dialect dialect;
    private final Holder holder;

    ExecutionRows(Sql db, Dialect dialect, Holder holder) {
        this.db = db;
        this.dialect = dialect;
        this.holder = holder;
    }

    List<Execution> retryChain(String job, long first) throws SQLException {
        return many(
                "SELECT " + COLUMNS + " FROM executions WHERE job = ? AND (number = ? OR retry_of = ?)"
                        + " ORDER BY number",
                job,
                first,
                first);
    }

    Optional<Execution> find(String job, long number) throws SQLException {
        return one("SELECT " + COLUMNS + " FROM executions WHERE job = ? AND number = ?", job, number);
    }

    List<Execution> list(String job, ExecutionQuery q) throws SQLException {
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
        if (q.state().isPresent()) {
            sql.append(" AND run_state = ?");
            args.add(q.state().get().column());
        }
        if (q.trigger().isPresent()) {
            sql.append(" AND trigger_kind = ?");
            args.add(q.trigger().get());
        }
        sql.append(" ORDER BY number DESC LIMIT ?");
        args.add(q.limit());
        return many(sql.toString(), args.toArray());
    }

    List<Execution> recent(
            Optional<String> status,
            Optional<RunState> state,
            Optional<String> trigger,
            Optional<Store.Cursor> before,
            int limit)
            throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM executions WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (before.isPresent()) {
            Store.Cursor c = before.get();
            sql.append(" AND (created_at, job, number) < (?, ?, ?)");
            args.addAll(List.of(c.createdAtMillis(), c.job(), c.number()));
        }
        if (status.isPresent()) {
            sql.append(" AND status = ?");
            args.add(status.get());
        }
        if (state.isPresent()) {
            sql.append(" AND run_state = ?");
            args.add(state.get().column());
        }
        if (trigger.isPresent()) {
            sql.append(" AND trigger_kind = ?");
            args.add(trigger.get());
        }
        sql.append(" ORDER BY created_at DESC, job DESC, number DESC LIMIT ?");
        args.add(limit);
        return many(sql.toString(), args.toArray());
    }

    Map<String, Execution> latest() throws SQLException {
        Map<String, Execution> latest = new LinkedHashMap<>();
        // A join on the counters: one primary-key look-up per job, not a scan per execution.
        for (Execution e : many("SELECT " + prefixed("e.") + " FROM job_counters c JOIN executions e"
                + " ON e.job = c.job AND e.number = c.last_number ORDER BY c.job")) {
            latest.put(e.job(), e);
        }
        return latest;
    }

    List<Execution> unfinished() throws SQLException {
        return many("SELECT " + COLUMNS + " FROM executions WHERE finished_at IS NULL ORDER BY created_at, job,"
                + " number");
    }

    java.util.Set<Store.Key> leftQueueElsewhere(List<Store.Key> keys) throws SQLException {
        List<Object> args = new ArrayList<>();
        args.add(holder.node());
        for (Store.Key k : keys) {
            args.add(k.job());
            args.add(k.number());
        }
        java.util.Set<Store.Key> left = new java.util.HashSet<>();
        try (PreparedStatement s = db.prepare(
                        "SELECT job, number FROM executions WHERE state <> 'queued' AND COALESCE(node_id, '') <> ?"
                                + " AND (job, number) IN ("
                                + String.join(", ", java.util.Collections.nCopies(keys.size(), "(?, ?)")) + ")",
                        args.toArray());
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                left.add(new Store.Key(rs.getString(1), rs.getLong(2)));
            }
        }
        return left;
    }

    /**
     * The signals other nodes recorded for executions {@code node} holds, cleared in the same
     * statement: each is taken once.
     */
    Map<Store.Key, List<String>> takeRemoteSignals(String node) throws SQLException {
        Map<Store.Key, List<String>> taken = new LinkedHashMap<>();
        try (PreparedStatement s = db.prepare(
                        // RETURNING gives the row after the update: the signals are read from the
                        // locked row before it.
                        "UPDATE executions SET remote_signals = NULL FROM (SELECT job, number, remote_signals"
                                + " FROM executions WHERE node_id = ? AND remote_signals IS NOT NULL"
                                + " AND state IN ('starting', 'running')" + dialect.lockRows() + ") taken"
                                + " WHERE executions.job = taken.job AND executions.number = taken.number"
                                + " RETURNING taken.job, taken.number, taken.remote_signals",
                        node);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                taken.put(
                        new Store.Key(rs.getString(1), rs.getLong(2)),
                        List.of(rs.getString(3).split(",")));
            }
        }
        return taken;
    }

    /** How many executions wait in the queue for each set of labels (comma-joined) their job asks a node for. */
    Map<String, Integer> queuedNeeding() throws SQLException {
        Map<String, Integer> counts = new LinkedHashMap<>();
        try (PreparedStatement s = db.prepare("SELECT needs, COUNT(*) FROM executions WHERE state = 'queued'"
                        + " AND needs IS NOT NULL GROUP BY needs ORDER BY needs");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getInt(2));
            }
        }
        return counts;
    }

    /** The STARTING and RUNNING executions {@code node} holds, oldest first. */
    List<Execution> heldBy(String node) throws SQLException {
        return many(
                "SELECT " + COLUMNS + " FROM executions WHERE node_id = ? AND state IN ('starting', 'running')"
                        + " ORDER BY created_at, job, number",
                node);
    }

    Optional<Execution> idempotent(String job, String key, Instant now) throws SQLException {
        return one(
                "SELECT " + prefixed("e.") + " FROM idempotency_keys k JOIN executions e ON e.job = k.job"
                        + " AND e.number = k.number WHERE k.job = ? AND k.idempotency_key = ? AND k.created_at >= ?",
                job,
                key,
                now.minus(Store.IDEMPOTENCY_WINDOW).toEpochMilli());
    }

    /**
     * The one guarded state change: {@code from} → {@code to} plus {@code set}, or {@link
     * StaleState} when the row is in another state (the transaction then rolls back).
     */
    long move(String job, long number, ExecutionState from, ExecutionState to, int events, String set, Object... values)
            throws SQLException {
        OptionalLong lastSeq = moveIfIn(job, number, from, to, events, set, values);
        if (lastSeq.isEmpty()) {
            Optional<Execution> row = find(job, number);
            String actual = row.map(e -> e.state().column()).orElse("missing");
            if (row.isPresent() && row.get().state() == from) {
                throw new StaleState("store: execution " + job + "/" + number + " is not held by node " + holder.node()
                        + " (held by " + row.get().node().map(n -> "node " + n).orElse("none")
                        + ", or this node's lease ran out); cannot make it " + to.column());
            }
            throw new StaleState("store: execution " + job + "/" + number + " is " + actual + ", not " + from.column()
                    + "; cannot make it " + to.column());
        }
        return lastSeq.getAsLong();
    }

    /**
     * As {@link #move}, but empty when the execution is not in state {@code from} (nothing
     * written). Leaving STARTING or RUNNING is a write about held work: it is made only by the
     * node that holds the execution, while its lease is live.
     */
    OptionalLong moveIfIn(
            String job, long number, ExecutionState from, ExecutionState to, int events, String set, Object... values)
            throws SQLException {
        boolean held = from == ExecutionState.STARTING || from == ExecutionState.RUNNING;
        return guardedMove(
                job,
                number,
                from,
                to,
                events,
                held ? holder.holds("node_id") : "",
                held ? holder.holdsArgs() : List.of(),
                set,
                values);
    }

    /**
     * As {@link #move}, for an execution no live node holds: it must still be held by {@code node}
     * (empty: by none, as a release before nodes left it), so that ending it for a node that
     * stopped never touches what another node took meanwhile.
     */
    long moveUnheld(
            String job,
            long number,
            ExecutionState from,
            ExecutionState to,
            Optional<String> node,
            int events,
            String set,
            Object... values)
            throws SQLException {
        OptionalLong lastSeq = guardedMove(
                job, number, from, to, events, " AND COALESCE(node_id, '') = ?", List.of(node.orElse("")), set, values);
        if (lastSeq.isEmpty()) {
            throw new StaleState("store: execution " + job + "/" + number + " is no longer " + from.column() + " on "
                    + node.map(n -> "node " + n).orElse("no node") + "; not ended for it");
        }
        return lastSeq.getAsLong();
    }

    private OptionalLong guardedMove(
            String job,
            long number,
            ExecutionState from,
            ExecutionState to,
            int events,
            String guard,
            List<Object> guardArgs,
            String set,
            Object... values)
            throws SQLException {
        if (!from.canMoveTo(to)) {
            throw new IllegalArgumentException("no move from " + from + " to " + to);
        }
        List<Object> args = new ArrayList<>();
        args.add(to.column());
        args.addAll(java.util.Arrays.asList(values));
        args.add(job);
        args.add(number);
        args.add(from.column());
        args.addAll(guardArgs);
        return lastSeq(
                "UPDATE executions SET state = ?" + set + (events == 0 ? "" : ", last_seq = last_seq + " + events)
                        + " WHERE job = ? AND number = ? AND state = ?" + guard + " RETURNING last_seq",
                args.toArray());
    }

    /**
     * The queue's claim, one statement: up to {@code limit} QUEUED executions that may start now
     * become STARTING, best priority, then oldest, first. An execution may start when it is due
     * (no not-before time, or one past) and its job is under its concurrency: the job's STARTING
     * and RUNNING rows, plus the due queued ones ahead of it, are fewer than its limit. The
     * claimed rows, in queue order.
     */
    List<Execution> claim(int limit, Instant now) throws SQLException {
        // Claims of several stores take turns: each counts what the one before it took, so
        // two snapshots cannot each see room for a different execution of a job at its limit.
        String turn = dialect.claimTurn();
        if (!turn.isEmpty()) {
            try (PreparedStatement s = db.prepare(turn);
                    ResultSet rs = s.executeQuery()) {
                rs.next();
            }
        }
        List<Execution> claimed = new ArrayList<>(many(
                "UPDATE executions SET state = 'starting', node_id = ? WHERE state = 'queued'" + holder.lease()
                        + " AND (job, number) IN ("
                        + "SELECT job, number FROM (SELECT q.job, q.number, q.priority, q.created_at, q.concurrency,"
                        + " ROW_NUMBER() OVER (PARTITION BY q.job ORDER BY q.priority DESC, q.created_at, q.number)"
                        + " AS place, COALESCE(a.active, 0) AS active FROM executions q LEFT JOIN (SELECT job,"
                        + " COUNT(*) AS active FROM executions WHERE state IN ('starting', 'running') GROUP BY job) a"
                        + " ON a.job = q.job"
                        + " WHERE q.state = 'queued' AND (q.not_before IS NULL OR q.not_before <= ?)"
                        // Only a node with every label its job asks for claims it.
                        + " AND (q.needs IS NULL OR " + dialect.labelsCover("q.needs") + "))"
                        + " c WHERE c.concurrency IS NULL OR c.active + c.place <= c.concurrency"
                        + " ORDER BY c.priority DESC, c.created_at, c.job, c.number LIMIT ?)"
                        + " RETURNING " + COLUMNS,
                claimArgs(now, limit)));
        claimed.sort(QUEUE_ORDER);
        return claimed;
    }

    private Object[] claimArgs(Instant now, int limit) {
        List<Object> args = new ArrayList<>();
        args.add(holder.node());
        args.addAll(holder.leaseArgs());
        args.add(now.toEpochMilli());
        args.add(String.join(",", holder.labels()));
        args.add(limit);
        return args.toArray();
    }

    /** The queue's order: best priority, then oldest (job and number break ties). */
    static final java.util.Comparator<Execution> QUEUE_ORDER = java.util.Comparator.comparingInt(
                    (Execution e) -> -e.priority())
            .thenComparing(Execution::createdAt)
            .thenComparing(Execution::job)
            .thenComparingLong(Execution::number);

    /** The next number of {@code job}, from its counter row (which the transaction then holds). */
    long nextNumber(String job) throws SQLException {
        try (PreparedStatement s = db.prepare(
                        "INSERT INTO job_counters (job, last_number) VALUES (?, 1) ON CONFLICT (job)"
                                + " DO UPDATE SET last_number = job_counters.last_number + 1 RETURNING last_number",
                        job);
                ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Gives back the number {@link #nextNumber} just took, for an execution that was refused:
     * the transaction holds the counter row since, so no other create took one meanwhile.
     */
    void giveNumberBack(String job) throws SQLException {
        db.update("UPDATE job_counters SET last_number = last_number - 1 WHERE job = ?", job);
    }

    /**
     * What admission under {@code rules} needs, in one statement: the queued executions, counted
     * up to the queue's bound (so a long queue costs no more than that), and, when the job has
     * a concurrency, its unfinished executions with their states.
     */
    Room room(String job, Store.Admit rules) throws SQLException {
        String queued = "SELECT -1, COUNT(*) FROM (SELECT 1 FROM executions WHERE state = 'queued' LIMIT ?) q";
        boolean limited = rules.concurrency().isPresent();
        int count = 0;
        List<Long> unfinished = new ArrayList<>();
        int active = 0;
        try (PreparedStatement s = limited
                        ? db.prepare(
                                "SELECT number, CASE WHEN state = 'queued' THEN 0 ELSE 1 END FROM executions"
                                        + " WHERE job = ? AND state IN ('queued', 'starting', 'running')"
                                        + " UNION ALL " + queued,
                                job,
                                rules.maxQueued())
                        : db.prepare(queued, rules.maxQueued());
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                long number = rs.getLong(1);
                if (number < 0) {
                    count = rs.getInt(2);
                } else {
                    unfinished.add(number);
                    active += rs.getInt(2);
                }
            }
        }
        unfinished.sort(null);
        return new Room(count, unfinished, active);
    }

    /**
     * Inserts the row of a queued (or, admitted at once, starting) execution, its first event
     * ({@code queued}) counted in it; the
     * row as stored, or empty when its fire is recorded already (the insert conflicted).
     */
    Optional<Execution> insert(
            NewExecution e, long number, Event queued, NewExecution.Prepared prepared, ExecutionState state)
            throws SQLException {
        List<Execution> inserted = many(
                "INSERT INTO executions (" + COLUMNS + ", idempotency_key, last_seq, concurrency)"
                        + " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL, ?, ?,"
                        + " ?, ?, ?, ?, NULL, NULL, NULL, 'queued', ?, ?, ?, 1, ?) ON CONFLICT (job, schedule_id, scheduled_at) DO NOTHING"
                        + " RETURNING " + COLUMNS,
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
                state.column(),
                e.origin().scheduleId().orElse(null),
                e.origin().retryOf().isPresent() ? e.origin().retryOf().getAsLong() : null,
                e.origin().notBefore().map(Instant::toEpochMilli).orElse(null),
                e.origin().triggeredBy().orElse(null),
                // Admitted at once, it is this node's from its creation.
                state == ExecutionState.STARTING ? holder.node() : null,
                prepared.needs().isEmpty() ? null : String.join(",", prepared.needs()),
                e.idempotencyKey().orElse(null),
                prepared.concurrency().isPresent() ? prepared.concurrency().getAsInt() : null);
        return inserted.isEmpty() ? Optional.empty() : Optional.of(inserted.getFirst());
    }

    /**
     * Points {@code e}'s idempotency key at execution {@code number}: false when the key points
     * at an execution within its window already; one past it is replaced in the same statement.
     */
    boolean claimKey(NewExecution e, long number) throws SQLException {
        return db.count(
                        "INSERT INTO idempotency_keys (job, idempotency_key, number, created_at) VALUES (?, ?, ?, ?)"
                                + " ON CONFLICT (job, idempotency_key) DO UPDATE SET number = excluded.number,"
                                + " created_at = excluded.created_at WHERE idempotency_keys.created_at < ?",
                        e.job(),
                        e.idempotencyKey().orElseThrow(),
                        number,
                        e.createdAt().toEpochMilli(),
                        e.createdAt().minus(Store.IDEMPOTENCY_WINDOW).toEpochMilli())
                == 1;
    }

    /** The execution recorded for {@code e}'s fire (job, schedule, moment), if it is a scheduled one. */
    Optional<Execution> fired(NewExecution e) throws SQLException {
        if (e.origin().scheduleId().isEmpty() || e.scheduledAt().isEmpty()) {
            return Optional.empty();
        }
        return one(
                "SELECT " + COLUMNS + " FROM executions WHERE job = ? AND schedule_id = ? AND scheduled_at = ?",
                e.job(),
                e.origin().scheduleId().get(),
                e.scheduledAt().get().toEpochMilli());
    }

    /** Runs an UPDATE … RETURNING last_seq: the execution's event number after it, or empty when no row matched. */
    OptionalLong lastSeq(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = db.prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        }
    }

    static String prefixed(String alias) {
        return alias + COLUMNS.replace(", ", ", " + alias);
    }

    Optional<Execution> one(String sql, Object... args) throws SQLException {
        List<Execution> found = many(sql, args);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }

    List<Execution> many(String sql, Object... args) throws SQLException {
        List<Execution> found = new ArrayList<>();
        try (PreparedStatement s = db.prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.add(new Execution(
                        rs.getString(1),
                        rs.getLong(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        Instant.ofEpochMilli(rs.getLong(6)),
                        Sql.instant(rs, 7),
                        Sql.instant(rs, 8),
                        rs.getObject(9) == null ? OptionalInt.empty() : OptionalInt.of(rs.getInt(9)),
                        rs.getString(10),
                        rs.getString(11),
                        rs.getString(12),
                        rs.getString(13),
                        rs.getInt(14),
                        Sql.instant(rs, 15),
                        rs.getObject(16) == null ? OptionalLong.empty() : OptionalLong.of(rs.getLong(16)),
                        rs.getString(17),
                        ExecutionState.ofColumn(rs.getString(18)),
                        Optional.ofNullable(rs.getString(19)),
                        rs.getObject(20) == null ? OptionalLong.empty() : OptionalLong.of(rs.getLong(20)),
                        Sql.instant(rs, 21),
                        Optional.ofNullable(rs.getString(22)),
                        rs.getString(23) == null
                                ? List.of()
                                : List.of(rs.getString(23).split(",")),
                        rs.getString(24) == null
                                ? Optional.empty()
                                : Optional.of(new Execution.RetryError(
                                        rs.getString(24), Instant.ofEpochMilli(rs.getLong(25)))),
                        RunState.read(rs.getString(26), ExecutionState.ofColumn(rs.getString(18)), rs.getString(3)),
                        Optional.ofNullable(rs.getString(27)),
                        rs.getString(28) == null
                                ? List.of()
                                : List.of(rs.getString(28).split(","))));
            }
        }
        return found;
    }
}
