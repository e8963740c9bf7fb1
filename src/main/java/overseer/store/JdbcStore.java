package overseer.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
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
    private final Transactions transactions;
    /** The session of the transaction the current thread runs work in. */
    private final ScopedValue<Session> session = ScopedValue.newInstance();
    /** Set when the current write stored webhook deliveries. */
    private final ScopedValue<java.util.concurrent.atomic.AtomicBoolean> deliveriesMade = ScopedValue.newInstance();

    private final Outbox outbox;

    private final Sql sql = new Sql(session);
    private final ExecutionRows executions;
    private final DeliveryRows deliveries;
    private final EventRows events;
    private final ScheduleRows schedules = new ScheduleRows(sql);
    private final JobStateRows jobStates = new JobStateRows(sql);
    private final RetentionRows retention;
    private final NodeRows nodes;
    private final Holder holder;
    private final Dialect dialect;

    protected JdbcStore(Transactions transactions, Dialect dialect, Outbox outbox) {
        this.transactions = transactions;
        this.dialect = dialect;
        this.holder = new Holder(dialect);
        this.retention = new RetentionRows(sql, dialect);
        this.executions = new ExecutionRows(sql, dialect, holder);
        this.deliveries = new DeliveryRows(sql, dialect, holder);
        this.nodes = new NodeRows(sql, dialect);
        this.outbox = outbox;
        this.events = new EventRows(
                sql, executions, deliveries, outbox, () -> deliveriesMade.get().set(true));
    }

    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} on committed data; engine-specific statements of subclasses run here too. */
    <T> T read(String what, Work<T> work) {
        return transactions.read(what, s -> ScopedValue.where(session, s).call(work::run));
    }

    /**
     * Runs {@code work} in a transaction and returns once it is committed (see {@link
     * Transactions}); then tells the outbox if the work stored webhook deliveries.
     */
    /** One transaction of {@code work}; package-private for the tests of a transaction's limits. */
    <T> T write(String what, Work<T> work) {
        java.util.concurrent.atomic.AtomicBoolean delivering = new java.util.concurrent.atomic.AtomicBoolean();
        T result = transactions.write(
                what,
                s -> ScopedValue.where(session, s)
                        .where(deliveriesMade, delivering)
                        .call(work::run));
        if (delivering.get()) {
            outbox.committed();
        }
        return result;
    }

    /** How many writes wait for the writer that holds the connection; tests hold one to queue others. */
    int queuedWrites() {
        return transactions instanceof GroupCommit g ? g.queuedWrites() : 0;
    }

    private void execute(String statement) throws SQLException {
        sql.execute(statement);
    }

    Connection connection() {
        return sql.connection();
    }

    @Override
    public Optional<String> writeFailure() {
        return transactions.failure();
    }

    @Override
    public Optional<Execution> idempotent(String job, String key, Instant now) {
        return read("look up an idempotency key", () -> executions.idempotent(job, key, now));
    }

    @Override
    public Created create(NewExecution e, Event queued) {
        return write("record an execution", () -> done(insert(new Insert(e, queued, Optional.empty()))));
    }

    @Override
    public Created skipped(NewExecution e, Event queued, Event skipped) {
        return write("record a skipped execution", () -> done(insert(new Insert(e, queued, Optional.of(skipped)))));
    }

    /** The execution of an insert without admission rules, which nothing refuses. */
    private static Created done(Inserted inserted) {
        return ((Inserted.Done) inserted).created();
    }

    @Override
    public List<Inserted> createAll(List<Insert> inserts) {
        if (inserts.size() == 1) {
            // Alone, an insert that fails is rolled back with its transaction: no savepoint needed
            // (two statements fewer for most triggers, which come one at a time).
            Insert only = inserts.getFirst();
            try {
                return List.of(write("record an execution", () -> insert(only)));
            } catch (StoreException e) {
                throw e;
            } catch (RuntimeException e) {
                return List.of(new Inserted.Failed(e));
            }
        }
        return write("record executions", () -> {
            List<Inserted> results = new ArrayList<>(inserts.size());
            for (Insert i : inserts) {
                // Each insert behind a savepoint of its own, so that one that fails is undone alone.
                execute("SAVEPOINT one_insert");
                try {
                    Inserted inserted = insert(i);
                    execute("RELEASE SAVEPOINT one_insert");
                    results.add(inserted);
                } catch (RuntimeException e) {
                    execute("ROLLBACK TO SAVEPOINT one_insert");
                    execute("RELEASE SAVEPOINT one_insert");
                    results.add(new Inserted.Failed(e));
                }
            }
            return results;
        });
    }

    /**
     * Inserts an execution, queued, or already ended by {@code last}; or finds the one it repeats;
     * or, refused by its admission rules, leaves it out. No look-up before the insert: the fire
     * and the idempotency key are unique indexes, and a repeat is the insert that conflicts. Two
     * servers creating the same fire at once then wait for each other on the index, and the
     * second finds the first's execution. A repeat gives its number back: everything it wrote is
     * rolled back to the savepoint.
     */
    private Inserted insert(Insert i) throws SQLException {
        NewExecution e = i.execution();
        if (e.idempotencyKey().isEmpty()
                && (e.origin().scheduleId().isEmpty() || e.scheduledAt().isEmpty())) {
            // Nothing it could repeat: no savepoint (two statements fewer per trigger).
            return insertOrRepeat(i).orElseThrow();
        }
        execute("SAVEPOINT one_execution");
        try {
            Optional<Inserted> made = insertOrRepeat(i);
            if (made.isEmpty()) {
                execute("ROLLBACK TO SAVEPOINT one_execution");
            }
            execute("RELEASE SAVEPOINT one_execution");
            return made.isPresent() ? made.get() : new Inserted.Done(repeated(e));
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
        Optional<Execution> earlier = executions.fired(e);
        if (earlier.isEmpty() && e.idempotencyKey().isPresent()) {
            earlier = executions.idempotent(e.job(), e.idempotencyKey().get(), e.createdAt());
        }
        return new Created(
                earlier.orElseThrow(() -> new SQLException(
                        "store: the execution " + e.job() + " repeats was not found after its insert conflicted")),
                true);
    }

    /**
     * The insert, or empty when it conflicted with the execution it repeats. Admission is
     * decided after the job's number is taken: the counter row is then held by this transaction,
     * so the creates of one job take turns and each counts the ones before it (on PostgreSQL the
     * row lock, on SQLite the one writer). A refused execution gives its number back.
     */
    private Optional<Inserted> insertOrRepeat(Insert i) throws SQLException {
        NewExecution e = i.execution();
        long number = executions.nextNumber(e.job());
        Room.Decision admitted = i.admit().isPresent()
                ? executions.room(e.job(), i.admit().get()).decide(i.admit().get())
                : Room.Decision.QUEUED;
        Optional<Event> last = i.skipped();
        if (admitted.refusal().isPresent()) {
            if (i.recordRefusal().isEmpty()) {
                executions.giveNumberBack(e.job());
                return Optional.of(new Inserted.Refused(admitted.refusal().get()));
            }
            last = Optional.of(i.recordRefusal().get().apply(admitted.refusal().get()));
        }
        Replaced replaced = replace(e, number, admitted.replaces());
        NewExecution.Prepared prepared = e.prepare().apply(number);
        Optional<Execution> inserted = executions.insert(
                e,
                number,
                i.queued(),
                prepared,
                // Started at once only by a node its job may run on.
                admitted.start() && last.isEmpty() && holder.labels().containsAll(prepared.needs())
                        ? ExecutionState.STARTING
                        : ExecutionState.QUEUED);
        if (inserted.isEmpty() || (e.idempotencyKey().isPresent() && !executions.claimKey(e, number))) {
            return Optional.empty();
        }
        List<Delivery> made = new ArrayList<>(events.append(e.job(), number, 1, i.queued()));
        if (last.isEmpty()) {
            return Optional.of(new Inserted.Done(
                    new Created(inserted.get(), false, Optional.of(new Written(List.of(i.queued()), made))),
                    replaced,
                    Optional.empty()));
        }
        Event end = last.get();
        long seq = executions.move(
                e.job(),
                number,
                ExecutionState.QUEUED,
                ExecutionState.CANCELLED,
                1,
                ", status = ?, finished_at = ?, secrets = '{}', launch = '{}', run_state = ?",
                end.name(),
                end.at().toEpochMilli(),
                cancelledState(end));
        made.addAll(events.append(e.job(), number, seq, end));
        return Optional.of(new Inserted.Done(
                new Created(
                        executions.find(e.job(), number).orElseThrow(),
                        false,
                        Optional.of(new Written(List.of(i.queued(), end), made))),
                replaced,
                admitted.refusal()));
    }

    /**
     * Ends what execution {@code number} of {@code e}'s job replaces: a queued one is cancelled
     * here, in the same transaction, as a {@code kill} would cancel it; one that is starting or
     * running (or was claimed meanwhile) is left to be killed by the server that runs it.
     */
    private Replaced replace(NewExecution e, long number, List<Long> victims) throws SQLException {
        if (victims.isEmpty()) {
            return Replaced.NONE;
        }
        List<Long> cancelled = new ArrayList<>();
        List<Long> ending = new ArrayList<>();
        for (long victim : victims) {
            Event kill = Event.of("kill", "replaced by execution " + number, e.createdAt(), "overseer");
            Event fail = Event.of("fail", "cancelled by 'kill' before it started", e.createdAt(), "overseer");
            OptionalLong seq = executions.moveIfIn(
                    e.job(),
                    victim,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    2,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}', run_state = ?",
                    fail.name(),
                    fail.at().toEpochMilli(),
                    cancelledState(fail));
            if (seq.isPresent()) {
                events.append(e.job(), victim, seq.getAsLong(), kill, fail);
                cancelled.add(victim);
                continue;
            }
            // Held by another node: the kill is recorded here and left in the row for that node to send.
            OptionalLong remote = executions.lastSeq(
                    "UPDATE executions SET status = ?, last_seq = last_seq + 1, run_state = " + RunState.AFTER_EVENT
                            + ", remote_signals = CASE WHEN remote_signals IS NULL THEN ? ELSE remote_signals || ',' || ?"
                            + " END WHERE job = ? AND number = ? AND state IN ('starting', 'running')"
                            + " AND node_id IS NOT NULL AND node_id <> ? RETURNING last_seq",
                    kill.name(),
                    kill.name(),
                    kill.name(),
                    kill.name(),
                    kill.name(),
                    e.job(),
                    victim,
                    holder.node());
            if (remote.isPresent()) {
                events.append(e.job(), victim, remote.getAsLong(), kill);
            } else {
                ending.add(victim);
            }
        }
        return new Replaced(cancelled, ending);
    }

    @Override
    public Optional<ScheduleState> scheduleState(String job, String scheduleId) {
        return read("read a schedule", () -> schedules.find(job, scheduleId));
    }

    @Override
    public void saveScheduleState(String job, String scheduleId, ScheduleState state) {
        write("record a schedule", () -> {
            schedules.save(job, scheduleId, state);
            return null;
        });
    }

    @Override
    public List<Execution> retryChain(String job, long first) {
        return read("read a retry chain", () -> executions.retryChain(job, first));
    }

    @Override
    public Optional<Execution> execution(String job, long number) {
        return read("read an execution", () -> executions.find(job, number));
    }

    @Override
    public List<Execution> executions(String job, ExecutionQuery q) {
        return read("list executions", () -> executions.list(job, q));
    }

    @Override
    public List<Execution> recent(
            Optional<String> status,
            Optional<RunState> state,
            Optional<String> trigger,
            Optional<Cursor> before,
            int limit) {
        return read("list recent executions", () -> executions.recent(status, state, trigger, before, limit));
    }

    @Override
    public Map<String, Execution> latest() {
        return read("read the latest executions", () -> executions.latest());
    }

    @Override
    public List<Execution> unfinished() {
        return read("list unfinished executions", () -> executions.unfinished());
    }

    @Override
    public void starting(String job, long number) {
        write("record a starting execution", () -> {
            executions.move(
                    job, number, ExecutionState.QUEUED, ExecutionState.STARTING, 0, ", node_id = ?", holder.node());
            return null;
        });
    }

    @Override
    public List<Execution> claim(int limit, Instant now) {
        if (limit <= 0) {
            return List.of();
        }
        return write("claim queued executions", () -> executions.claim(limit, now));
    }

    @Override
    public Set<Key> leftQueueElsewhere(List<Key> keys) {
        if (keys.isEmpty()) {
            return Set.of();
        }
        return read("read the states of executions", () -> executions.leftQueueElsewhere(keys));
    }

    @Override
    public Map<Key, List<String>> takeRemoteSignals() {
        String node = holder.node();
        return write("take the signals other nodes left", () -> executions.takeRemoteSignals(node));
    }

    @Override
    public List<Execution> heldRows() {
        return read("list this node's executions", () -> executions.heldBy(holder.node()));
    }

    @Override
    public void backToQueue(String job, long number) {
        write("put an execution back in the queue", () -> {
            executions.move(
                    job,
                    number,
                    ExecutionState.STARTING,
                    ExecutionState.QUEUED,
                    0,
                    ", pending_signals = NULL, node_id = NULL");
            return null;
        });
    }

    @Override
    public void started(String job, long number, long processGroup, Event start) {
        write("record a start", () -> {
            long seq = executions.move(
                    job,
                    number,
                    ExecutionState.STARTING,
                    ExecutionState.RUNNING,
                    1,
                    // A stop kept while it was starting is sent to the process at once: it starts stopped.
                    ", started_at = ?, pid = ?, status = ?, pending_signals = NULL,"
                            + " run_state = CASE WHEN status = 'stop' THEN 'stopped' ELSE 'running' END",
                    start.at().toEpochMilli(),
                    processGroup,
                    start.name());
            events.append(job, number, seq, start);
            return null;
        });
    }

    @Override
    public boolean event(String job, long number, Event event) {
        return write("record an event", () -> {
            OptionalLong seq = executions.lastSeq(
                    "UPDATE executions SET status = ?, last_seq = last_seq + 1, run_state = " + RunState.AFTER_EVENT
                            + " WHERE job = ? AND number = ? AND finished_at IS NULL"
                            // Queued, it is no node's; starting or running, only its node writes about it.
                            + " AND (node_id IS NULL OR (1 = 1" + holder.holds("node_id") + ")) RETURNING last_seq",
                    eventArgs(job, number, event));
            if (seq.isEmpty()) {
                return false;
            }
            events.append(job, number, seq.getAsLong(), event);
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
            long seq = executions.move(
                    job, number, recorded, ExecutionState.DONE, 1, END, endValues(exitCode, last, retryError));
            events.append(job, number, seq, last);
            return null;
        });
    }

    /** What an end sets: its final event is the status; the secrets and launch spec are forgotten. */
    private static final String END = ", status = ?, finished_at = ?, exit_code = ?, secrets = '{}', launch = '{}',"
            + " pending_signals = NULL, retry_error = ?, retry_error_at = ?, run_state = " + RunState.AT_END;

    private static Object[] endValues(OptionalInt exitCode, Event last, Optional<Execution.RetryError> retryError) {
        return new Object[] {
            last.name(),
            last.at().toEpochMilli(),
            exitCode.isPresent() ? exitCode.getAsInt() : null,
            retryError.map(Execution.RetryError::cause).orElse(null),
            retryError.map(r -> r.at().toEpochMilli()).orElse(null),
            last.name()
        };
    }

    private Object[] eventArgs(String job, long number, Event event) {
        List<Object> args = new ArrayList<>(List.of(event.name(), event.name(), event.name(), job, number));
        args.addAll(holder.holdsArgs());
        return args.toArray();
    }

    @Override
    public void endUnheld(Execution e, Event last) {
        write("record the end of an execution no node holds", () -> {
            endUnheldIn(e, last);
            return null;
        });
    }

    private void endUnheldIn(Execution e, Event last) throws SQLException {
        long seq = executions.moveUnheld(
                e.job(),
                e.number(),
                e.state(),
                ExecutionState.DONE,
                e.node(),
                1,
                END,
                endValues(OptionalInt.empty(), last, Optional.empty()));
        events.append(e.job(), e.number(), seq, last);
    }

    @Override
    public void registerNode(NodeRegistration node, java.time.Duration lease) {
        write("register this node", () -> {
            nodes.register(node, lease.toMillis());
            return null;
        });
        holder.become(node.id(), node.labels());
    }

    @Override
    public String nodeId() {
        return holder.node();
    }

    @Override
    public boolean clustered() {
        return dialect.shared();
    }

    @Override
    public boolean renewNode(java.time.Duration lease) {
        String node = holder.node();
        return write("renew this node's lease", () -> nodes.renew(node, lease.toMillis()));
    }

    @Override
    public boolean reclaimNode(java.time.Duration lease) {
        String node = holder.node();
        boolean taken = write("take this node's lease back", () -> nodes.reclaim(node, lease.toMillis()));
        if (taken) {
            holder.fenced(false);
        }
        return taken;
    }

    @Override
    public void fenceNode() {
        holder.fenced(true);
    }

    @Override
    public void leaveNode() {
        String node = holder.node();
        write("end this node's lease", () -> {
            nodes.leave(node);
            return null;
        });
    }

    @Override
    public void expireNode(String id) {
        write("end a node's lease", () -> {
            nodes.expire(id);
            return null;
        });
    }

    @Override
    public List<ClusterNode> nodes() {
        return read("list nodes", nodes::list);
    }

    @Override
    public Map<List<String>, Integer> queuedNeeding() {
        Map<String, Integer> joined =
                read("count queued executions by the labels they need", executions::queuedNeeding);
        Map<List<String>, Integer> counts = new java.util.LinkedHashMap<>();
        joined.forEach((labels, n) -> counts.put(List.of(labels.split(",")), n));
        return counts;
    }

    /** How long a node that ended stays listed. */
    private static final long NODES_KEPT_MILLIS = java.time.Duration.ofDays(1).toMillis();

    @Override
    public Optional<Reaped> reapExpiredNode(java.util.function.BiFunction<ClusterNode, Execution, Event> end) {
        return write("end the work of a node whose lease ran out", () -> {
            Optional<ClusterNode> expired = nodes.takeExpired(holder.node());
            if (expired.isEmpty()) {
                nodes.forget(NODES_KEPT_MILLIS);
                return Optional.<Reaped>empty();
            }
            ClusterNode node = expired.get();
            List<Execution> held = executions.heldBy(node.id());
            for (Execution e : held) {
                endUnheldIn(e, end.apply(node, e));
            }
            int released = deliveries.releaseOf(node.id());
            nodes.markDead(node.id());
            return Optional.of(new Reaped(node, held, released));
        });
    }

    @Override
    public void signalPending(String job, long number, Event signal) {
        write("record a signal to a starting execution", () -> {
            OptionalLong seq = executions.lastSeq(
                    "UPDATE executions SET status = ?, pending_signals = CASE WHEN pending_signals IS NULL THEN ?"
                            + " ELSE pending_signals || ',' || ? END, last_seq = last_seq + 1, run_state = "
                            + RunState.AFTER_EVENT
                            + " WHERE job = ? AND number = ? AND state IN (?, ?) RETURNING last_seq",
                    signal.name(),
                    signal.name(),
                    signal.name(),
                    // On a row already running (the start just committed), a stop is its state now.
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
            if (seq.isEmpty()) {
                throw new StaleState("store: execution " + job + "/" + number + " is not starting; cannot keep '"
                        + signal.name() + "' for its start");
            }
            events.append(job, number, seq.getAsLong(), signal);
            return null;
        });
    }

    @Override
    public void cancelled(String job, long number, Event signal, Event last) {
        write("record a cancelled execution", () -> {
            long seq = executions.move(
                    job,
                    number,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    2,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}', run_state = ?",
                    last.name(),
                    last.at().toEpochMilli(),
                    cancelledState(last));
            events.append(job, number, seq, signal, last);
            return null;
        });
    }

    @Override
    public void cancelled(String job, long number, Event last) {
        write("record a cancelled execution", () -> {
            long seq = executions.move(
                    job,
                    number,
                    ExecutionState.QUEUED,
                    ExecutionState.CANCELLED,
                    1,
                    ", status = ?, finished_at = ?, secrets = '{}', launch = '{}', run_state = ?",
                    last.name(),
                    last.at().toEpochMilli(),
                    cancelledState(last));
            events.append(job, number, seq, last);
            return null;
        });
    }

    /** The state of an execution that ends before it started: skipped, or cancelled. */
    private static String cancelledState(Event last) {
        return (RunState.atEnd(last.name()) == RunState.SKIPPED ? RunState.SKIPPED : RunState.CANCELLED).column();
    }

    @Override
    public List<Event> events(String job, long number) {
        return read("read events", () -> events.of(job, number));
    }

    @Override
    public Optional<Event> latestEvent(String job, long number, String name) {
        return read("read an event", () -> events.latest(job, number, name));
    }

    @Override
    public List<Delivery> claimDeliveries(String claimant, Instant now, Instant until, HookRoom room, int limit) {
        return write("claim due deliveries", () -> deliveries.claim(claimant, now, until, room, limit));
    }

    @Override
    public void renewDeliveryClaims(String claimant, Set<String> ids, Instant until) {
        write("renew delivery claims", () -> {
            deliveries.renew(claimant, ids, until);
            return null;
        });
    }

    @Override
    public int releaseDeliveryClaims(String keep) {
        return write("release delivery claims", () -> deliveries.releaseOthers(keep));
    }

    @Override
    public Backlog deliveryBacklog() {
        return read("count pending deliveries", () -> deliveries.backlog());
    }

    @Override
    public Optional<Instant> nextDeliveryDue() {
        return read("find the next delivery", () -> deliveries.nextDue());
    }

    @Override
    public Set<String> deliveriesAttempted(String claimant, Map<String, Delivery.Attempt> attempts) {
        return write("record delivery attempts", () -> deliveries.attempted(claimant, attempts));
    }

    @Override
    public Optional<Delivery> delivery(String id) {
        return read("read a delivery", () -> deliveries.find(id));
    }

    @Override
    public List<Delivery> deliveries(String job, long number) {
        return read("list deliveries", () -> deliveries.ofExecution(job, number));
    }

    @Override
    public List<Delivery> deliveries(Optional<String> state, int limit) {
        return read("list deliveries", () -> deliveries.list(state, limit));
    }

    @Override
    public boolean redeliver(String id, Instant now, Instant expiresAt) {
        return write("resend a delivery", () -> deliveries.redeliver(id, now, expiresAt));
    }

    @Override
    public List<Prunable> prunable(Instant keepAfter, int perJob, Instant youngest, int limit) {
        return read("find old executions", () -> retention.prunable(keepAfter, perJob, youngest, limit));
    }

    @Override
    public List<Prunable> remove(List<Prunable> candidates, Instant keepAfter, int perJob, Instant youngest) {
        return write("remove old executions", () -> retention.remove(candidates, keepAfter, perJob, youngest));
    }

    @Override
    public Set<String> disabledJobs() {
        return read("read job states", () -> jobStates.disabled());
    }

    @Override
    public void setEnabled(String job, boolean enabled, Instant at) {
        write("record a job state", () -> {
            jobStates.save(job, enabled, at);
            return null;
        });
    }

    @Override
    public void close() {
        transactions.close();
    }
}
