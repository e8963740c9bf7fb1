package overseer.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Everything Overseer keeps across restarts. Every method that writes returns only after the
 * write is durable, so an API response sent after it never acknowledges something a crash could
 * lose. Implementations are thread-safe. Writes that move an execution name the state they
 * expect and throw {@link StaleState} when it is another.
 */
public interface Store extends AutoCloseable {
    /** How long an {@code Idempotency-Key} answers with the execution it first created. */
    Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);

    /**
     * The execution a trigger created, or the earlier one its idempotency key points at. For one
     * it created, {@code written} holds everything the execution has so far (its events and their
     * deliveries), so that the trigger's answer needs no read after the commit.
     */
    record Created(Execution execution, boolean existing, Optional<Written> written) {
        public Created(Execution execution, boolean existing) {
            this(execution, existing, Optional.empty());
        }
    }

    /** What the transaction that created an execution wrote about it. */
    record Written(List<Event> events, List<Delivery> deliveries) {}

    /**
     * Records a new {@code queued} execution, numbered after the job's last one. A scheduled
     * execution whose fire (job, schedule, {@code scheduledAt}) is recorded already is not
     * recorded again: that earlier execution is returned, as for an idempotency key.
     */
    Created create(NewExecution execution, Event queued);

    /**
     * Records a scheduled execution that is not run ({@code overlap: skip} while its job is at
     * its limit): {@code queued}, then {@code skipped} as its final event, in one transaction.
     */
    Created skipped(NewExecution execution, Event queued, Event skipped);

    /** What becomes of a new execution that would take its job past its concurrency. */
    enum OnLimit {
        /** It waits in the queue for a place. */
        QUEUE,
        /** It is refused. */
        SKIP,
        /** The oldest unfinished executions of its job make room for it. */
        REPLACE
    }

    /**
     * The rules a new execution is admitted under, checked in the transaction that creates it,
     * against the executions stored unfinished (of every server on the database): the queue's
     * bound, and its job's {@code concurrency} (empty: none, as for a retry, which its first
     * execution's place already counted) with what happens at the limit. {@code mayStart}: the
     * creating server has a running slot for it, so it is recorded STARTING (its start then needs
     * no commit of its own) when nothing is queued, nothing is replaced and its job is under its
     * limit.
     */
    record Admit(OptionalInt concurrency, OnLimit onLimit, int maxQueued, boolean mayStart) {
        /** A retry's rules: only the queue's bound. */
        public static Admit retry(int maxQueued) {
            return new Admit(OptionalInt.empty(), OnLimit.QUEUE, maxQueued, false);
        }
    }

    /**
     * Why admission refused an execution: the queue holds {@code queued} executions, its bound; or
     * its job is at its concurrency with {@code OnLimit.SKIP}, held by the unfinished {@code
     * holders}, oldest first.
     */
    record Refusal(Kind kind, int queued, List<Long> holders) {
        public enum Kind {
            QUEUE_FULL,
            AT_LIMIT
        }

        public Refusal {
            holders = List.copyOf(holders);
        }
    }

    /**
     * One execution of a batch: queued, or ended at once by {@code skipped}; admitted under
     * {@code admit} when given (without, it is queued whatever is stored). A refused one is not
     * recorded, unless {@code recordRefusal} is given (a scheduled fire, which is never refused
     * silently): it is then recorded ended at once by the event that function makes.
     */
    record Insert(
            NewExecution execution,
            Event queued,
            Optional<Event> skipped,
            Optional<Admit> admit,
            Optional<java.util.function.Function<Refusal, Event>> recordRefusal) {
        public Insert(NewExecution execution, Event queued, Optional<Event> skipped) {
            this(execution, queued, skipped, Optional.empty(), Optional.empty());
        }

        /** The same insert, admitted under {@code rules}. */
        public Insert admittedUnder(Admit rules, Optional<java.util.function.Function<Refusal, Event>> onRefusal) {
            return new Insert(execution, queued, skipped, Optional.of(rules), onRefusal);
        }
    }

    /**
     * The executions (numbers, oldest first) a new one replaces: the queued ones were cancelled
     * in the transaction that created it (a {@code kill} naming it, then {@code fail}); the
     * {@code ending} ones are starting or running here and must be killed by this server. One that
     * another node holds is in neither: its kill is recorded and left for that node to send.
     */
    record Replaced(List<Long> cancelled, List<Long> ending) {
        public static final Replaced NONE = new Replaced(List.of(), List.of());

        public Replaced {
            cancelled = List.copyOf(cancelled);
            ending = List.copyOf(ending);
        }
    }

    /** What became of one insert of a batch. */
    sealed interface Inserted {
        /**
         * Recorded, or found recorded before (a fire, an idempotency key). {@code replaced}: the
         * executions of its job that make room for it ({@code OnLimit.REPLACE}). {@code refused}:
         * it was recorded ended at once because admission refused it, and why.
         */
        record Done(Created created, Replaced replaced, Optional<Refusal> refused) implements Inserted {
            public Done(Created created) {
                this(created, Replaced.NONE, Optional.empty());
            }
        }

        /** Refused by admission, and not recorded (its job's number is not used). */
        record Refused(Refusal refusal) implements Inserted {}

        /** Not recorded; the rest of the batch is not affected. */
        record Failed(RuntimeException error) implements Inserted {}
    }

    /**
     * Records several executions in one transaction (one commit, one fsync), each as {@link
     * #create} or {@link #skipped} would; an insert that fails (its command cannot be rendered)
     * is rolled back alone. A failure of the store itself fails the whole batch.
     */
    List<Inserted> createAll(List<Insert> inserts);

    Optional<ScheduleState> scheduleState(String job, String scheduleId);

    void saveScheduleState(String job, String scheduleId, ScheduleState state);

    /** A retry chain: its first execution and each retry of it, in order. */
    List<Execution> retryChain(String job, long first);

    Optional<Execution> execution(String job, long number);

    /** The execution an {@code Idempotency-Key} created for {@code job} within the window before {@code now}. */
    Optional<Execution> idempotent(String job, String key, Instant now);

    /** The error of the latest write, when it failed; empty once a write succeeds again. */
    Optional<String> writeFailure();

    List<Execution> executions(String job, ExecutionQuery query);

    /** Where a page of {@link #recent} ends: the next page starts after this execution. */
    record Cursor(long createdAtMillis, String job, long number) {}

    /** The newest executions of all jobs, newest first, after {@code before} when given. */
    List<Execution> recent(
            Optional<String> status,
            Optional<RunState> state,
            Optional<String> trigger,
            Optional<Cursor> before,
            int limit);

    /** The most recent execution of each job that has one. */
    Map<String, Execution> latest();

    /** Executions not finished (QUEUED, STARTING or RUNNING), oldest first. */
    List<Execution> unfinished();

    /** QUEUED → STARTING, recorded before the process is spawned. */
    void starting(String job, long number);

    /**
     * The queue's claim: up to {@code limit} QUEUED executions that may start now become
     * STARTING, in one statement, and are returned in queue order (best priority, then oldest).
     * One may start when its not-before time (a pending retry's) is not after {@code now} and
     * its job has fewer STARTING and RUNNING executions, counting the queued ones ahead of it,
     * than the concurrency it was triggered with. Two claims, of this store or another on the
     * same database, never return the same execution.
     */
    List<Execution> claim(int limit, Instant now);

    /** One execution by its job and number. */
    record Key(String job, long number) {}

    /** Those of {@code keys} that are no longer queued and not this node's: another node claimed them, or they ended. */
    Set<Key> leftQueueElsewhere(List<Key> keys);

    /**
     * The signals other nodes recorded (with their events) for executions this node holds, such
     * as the kill of an execution that {@code overlap: replace} chose there; each is returned once.
     */
    Map<Key, List<String>> takeRemoteSignals();

    /** This node's STARTING and RUNNING executions, oldest first. */
    List<Execution> heldRows();

    /** STARTING → QUEUED: given back before anything was spawned, to be started by the next start. */
    void backToQueue(String job, long number);

    /** STARTING → RUNNING: the {@code start} event and the process group it runs in. */
    void started(String job, long number, long processGroup, Event start);

    /**
     * Appends an event to an execution that has not finished; it becomes the status. Returns
     * false, writing nothing, when the execution has finished: no event ever follows the last.
     */
    boolean event(String job, long number, Event event);

    /**
     * {@code from} → DONE: appends the final event and marks the execution finished. The secret
     * values it was started with (in its launch spec) are forgotten. {@code from} ENDING is recorded as RUNNING.
     */
    default void finished(String job, long number, ExecutionState from, OptionalInt exitCode, Event last) {
        finished(job, number, from, exitCode, last, Optional.empty());
    }

    /**
     * As {@link #finished(String, long, ExecutionState, OptionalInt, Event)}, recording in the
     * same transaction why the retry this end calls for could not be queued: a field of the
     * execution, never an event after its final one.
     */
    void finished(
            String job,
            long number,
            ExecutionState from,
            OptionalInt exitCode,
            Event last,
            Optional<Execution.RetryError> retryError);

    /**
     * A signal to an execution whose process its run does not hold yet: appends the event and
     * keeps the signal pending in the row, in one transaction, until {@link #started} (which
     * clears it) or the end applies it. STARTING, or RUNNING in the moment after the start was
     * committed and before the run took the process group; throws {@link StaleState} otherwise.
     */
    void signalPending(String job, long number, Event signal);

    /**
     * QUEUED → CANCELLED by a signal: the signal's event and the final event in one transaction,
     * so a kill is never recorded without the cancellation it causes.
     */
    void cancelled(String job, long number, Event signal, Event last);

    /** QUEUED → CANCELLED: appends the final event; the execution never started. */
    void cancelled(String job, long number, Event last);

    List<Event> events(String job, long number);

    Optional<Event> latestEvent(String job, long number, String name);

    /**
     * How many more deliveries each hook may take now: {@code perHook} less those {@code taken}
     * (in flight to it).
     */
    record HookRoom(int perHook, Map<String, Integer> taken) {
        /** No hook has a cap. */
        public static HookRoom unlimited() {
            return new HookRoom(Integer.MAX_VALUE, Map.of());
        }

        public int of(String hookKey) {
            return perHook - taken.getOrDefault(hookKey, 0);
        }

        /** The hooks that can take none. */
        public Set<String> full() {
            return taken.entrySet().stream()
                    .filter(e -> e.getValue() >= perHook)
                    .map(Map.Entry::getKey)
                    .collect(java.util.stream.Collectors.toSet());
        }
    }

    /**
     * Claims for {@code claimant} until {@code until} up to {@code limit} pending deliveries due at
     * {@code now} that no one holds, each the oldest pending one of its hook and execution, and no
     * more for a hook than {@code room} leaves it: a hook that can take no more must not fill the
     * {@code limit} and starve the others, nor be claimed for and then given back. The outbox's
     * claims are in the store, not in a sender's memory: the candidates are locked (passed over by
     * another claim, on PostgreSQL) and the chosen ones claimed in one transaction, so a delivery
     * is never taken twice at once.
     */
    List<Delivery> claimDeliveries(String claimant, Instant now, Instant until, HookRoom room, int limit);

    /** Extends until {@code until} the claims {@code claimant} holds on the deliveries {@code ids}. */
    void renewDeliveryClaims(String claimant, Set<String> ids, Instant until);

    /**
     * Gives up the claims of every claimant but {@code keep}: at a start, those an earlier run of
     * this server left (one server per database); returns how many.
     */
    int releaseDeliveryClaims(String keep);

    /**
     * When the earliest pending delivery that nothing holds back is due (a claimed one when its
     * claim runs out; one behind an earlier pending delivery of its hook and execution is not
     * counted), if any is pending.
     */
    Optional<Instant> nextDeliveryDue();

    /** How many deliveries are pending, and when the oldest was made. */
    record Backlog(long count, Optional<Instant> oldest) {}

    Backlog deliveryBacklog();

    /**
     * Records attempts to send deliveries (by id) that {@code claimant} holds, all in one
     * transaction, giving up their claims; returns the ids whose claim it no longer held, for
     * which nothing was written.
     */
    Set<String> deliveriesAttempted(String claimant, Map<String, Delivery.Attempt> attempts);

    Optional<Delivery> delivery(String id);

    /** An execution's deliveries, in event order. */
    List<Delivery> deliveries(String job, long number);

    /**
     * Deliveries across jobs, newest first: all, or those in one state ({@code pending},
     * {@code delivered}, {@code failed}, {@code expired}, or {@code failing}: pending after a failed attempt).
     */
    List<Delivery> deliveries(Optional<String> state, int limit);

    /** Makes a failed or expired delivery pending again, due now; false when it is in another state. */
    boolean redeliver(String id, Instant now, Instant expiresAt);

    /** An execution retention may remove. */
    record Prunable(String job, long number) {}

    /**
     * Finished executions retention may remove: created before {@code keepAfter}, or beyond the
     * newest {@code perJob} of their job; never one created after {@code youngest}, never the
     * latest of its job, never one with a pending delivery or an unfinished retry in its chain.
     */
    List<Prunable> prunable(Instant keepAfter, int perJob, Instant youngest, int limit);

    /**
     * Removes those of {@code candidates} that are still prunable by the same arguments as
     * {@link #prunable}, checked in the removing transaction, with their events and deliveries;
     * returns those removed.
     */
    List<Prunable> remove(List<Prunable> candidates, Instant keepAfter, int perJob, Instant youngest);

    /** Gives the space that removals freed inside the database back to the file system. */
    void reclaim();

    /**
     * Registers this server's node with a lease of {@code lease} on the database's clock; from
     * now on every write about work it holds names it (and, on a shared database, checks its lease).
     */
    void registerNode(NodeRegistration node, Duration lease);

    /** The id this store writes as: the node last registered. */
    String nodeId();

    /** Whether several servers may share this store's database (their leases are then enforced). */
    boolean clustered();

    /**
     * Extends this node's lease by {@code lease} from now; false when it had run out (or another
     * node ended its work): the node must fence itself and register anew.
     */
    boolean renewNode(Duration lease);

    /**
     * This node fenced itself: until it takes its lease back ({@link #reclaimNode}) or registers
     * again, every write about work it holds (a start, an event, an end, a delivery's claim or
     * outcome) fails as a store failure, which its callers retry, instead of reaching the
     * database: one made after the lease ran out would be refused for good, and the work would
     * be left unended although this node may yet take the lease back.
     */
    void fenceNode();

    /**
     * Takes this node's lease back, even when it ran out, as long as no node ended its work;
     * writes about held work go through again. False when another node ended it: the node must
     * register anew, and what it still knows of that work is not its to record.
     */
    boolean reclaimNode(Duration lease);

    /** Ends this node's lease at a clean stop. */
    void leaveNode();

    /** Ends the lease of node {@code id} now: the predecessor of this server on its data directory. */
    void expireNode(String id);

    List<ClusterNode> nodes();

    /** How many queued executions ask a node for each set of labels (sorted), for those that ask. */
    Map<List<String>, Integer> queuedNeeding();

    /** A node whose lease ran out, and the executions its end ended (as they were before). */
    record Reaped(ClusterNode node, List<Execution> ended, int deliveriesReleased) {
        public Reaped {
            ended = List.copyOf(ended);
        }
    }

    /**
     * Ends the work of one node whose lease ran out, in one transaction that other nodes doing
     * the same pass over: each of its STARTING and RUNNING executions ends with the event {@code
     * end} makes for it, its delivery claims are released, and it is marked dead. Empty when no
     * node's lease ran out unended.
     */
    Optional<Reaped> reapExpiredNode(java.util.function.BiFunction<ClusterNode, Execution, Event> end);

    /**
     * STARTING or RUNNING → DONE for an execution no live node holds ({@code e} as read: still in
     * its state and held by its node, or by none), ending with {@code last}.
     */
    void endUnheld(Execution e, Event last);

    Set<String> disabledJobs();

    void setEnabled(String job, boolean enabled, Instant at);

    @Override
    void close();
}
