package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every behaviour a store must have; each store implementation runs it through a subclass. */
abstract class StoreContract {
    static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

    Store store;

    /** Jobs named {@code hooked…} have two hooks, A (every event) and B (only {@code done}). */
    static final Outbox HOOKS = new Outbox() {
        @Override
        public boolean wants(String job, String event) {
            return job.startsWith("hooked");
        }

        @Override
        public List<Delivery.New> deliveries(Execution e, Event event) {
            List<Delivery.New> made = new java.util.ArrayList<>();
            made.add(delivery("A", e, event));
            if (event.name().equals("done")) {
                made.add(delivery("B", e, event));
            }
            return made;
        }

        private Delivery.New delivery(String hook, Execution e, Event event) {
            return new Delivery.New(
                    hook + "-" + e.job() + "-" + e.number() + "-" + event.name(),
                    hook,
                    "http://" + hook.toLowerCase() + ".example/",
                    Optional.empty(),
                    "{\"status\":\"" + e.status() + "\"}",
                    event.at().plus(Duration.ofHours(24)));
        }
    };

    /** A new, empty store. */
    abstract Store open() throws Exception;

    /** The same store as a restarted server would see it. */
    abstract Store reopen(Store previous) throws Exception;

    /** A second store on the same database, open beside the first (as a second server would). */
    abstract Store another() throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = open();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static NewExecution newExecution(String job, Instant at, Optional<String> key) {
        return new NewExecution(
                job,
                "api",
                "c0ffee",
                at,
                "{\"who\":\"***\"}",
                "{\"who\":\"secret\"}",
                0,
                Optional.empty(),
                UUID.randomUUID().toString(),
                key,
                NewExecution.Origin.NONE,
                n -> new NewExecution.Prepared("echo " + n + " ***", "{}"));
    }

    private static final Instant FAR = Instant.parse("9000-01-01T00:00:00Z");

    /** One delivery's attempt, recorded as the sender records its batches: claimed, then recorded. */
    void attempted(String id, Delivery.Attempt attempt) {
        assertThat(store.claimDeliveries("contract", FAR, FAR.plusSeconds(1), Store.HookRoom.unlimited(), 1000))
                .extracting(Delivery::id)
                .contains(id);
        assertThat(store.deliveriesAttempted("contract", java.util.Map.of(id, attempt)))
                .isEmpty();
        store.releaseDeliveryClaims("");
    }

    /** The deliveries a claim at {@code now} would take, leaving them unclaimed. */
    List<Delivery> due(Instant now, Set<String> fullHooks, int limit) {
        java.util.Map<String, Integer> taken = new java.util.HashMap<>();
        fullHooks.forEach(h -> taken.put(h, 1));
        List<Delivery> due = store.claimDeliveries(
                "peek", now, now.plusSeconds(1), new Store.HookRoom(fullHooks.isEmpty() ? 100 : 1, taken), limit);
        store.releaseDeliveryClaims("");
        return due;
    }

    Execution create(String job, Instant at) {
        return store.create(newExecution(job, at, Optional.empty()), Event.of("queued", null, at, "api"))
                .execution();
    }

    @Test
    void numbersExecutionsPerJobFromOne() {
        assertThat(create("a", T0).number()).isEqualTo(1);
        assertThat(create("a", T0).number()).isEqualTo(2);
        assertThat(create("b", T0).number()).isEqualTo(1);
        Execution third = create("a", T0.plusSeconds(1));
        assertThat(third.number()).isEqualTo(3);
        assertThat(third.status()).isEqualTo("queued");
        assertThat(third.createdAt()).isEqualTo(T0.plusSeconds(1));
        assertThat(third.paramsJson()).isEqualTo("{\"who\":\"***\"}");
        assertThat(third.secretsJson()).isEqualTo("{\"who\":\"secret\"}");
        assertThat(third.rendered()).isEqualTo("echo 3 ***");
        assertThat(third.finished()).isFalse();
    }

    @Test
    void numberingAndStateSurviveARestart() throws Exception {
        create("a", T0);
        create("a", T0);
        store.setEnabled("a", false, T0);
        store = reopen(store);
        assertThat(create("a", T0).number()).isEqualTo(3);
        assertThat(store.disabledJobs()).containsExactly("a");
        store.setEnabled("a", true, T0);
        assertThat(store.disabledJobs()).isEmpty();
    }

    @Test
    void anIdempotencyKeyReturnsTheFirstExecutionForADay() {
        Event queued = Event.of("queued", null, T0, "api");
        var first = store.create(newExecution("a", T0, Optional.of("k1")), queued);
        var again = store.create(newExecution("a", T0.plus(Duration.ofHours(23)), Optional.of("k1")), queued);
        var otherJob = store.create(newExecution("b", T0, Optional.of("k1")), queued);
        var later = store.create(newExecution("a", T0.plus(Duration.ofHours(25)), Optional.of("k1")), queued);
        assertThat(first.existing()).isFalse();
        assertThat(again.existing()).isTrue();
        assertThat(again.execution().number()).isEqualTo(first.execution().number());
        assertThat(otherJob.existing()).isFalse();
        assertThat(later.existing()).isFalse();
        assertThat(later.execution().number()).isEqualTo(2);
        // The expired key now points at the new execution, for a day from its creation.
        var repeat = store.create(newExecution("a", T0.plus(Duration.ofHours(26)), Optional.of("k1")), queued);
        assertThat(repeat.existing()).isTrue();
        assertThat(repeat.execution().number()).isEqualTo(2);
        assertThat(store.idempotent("a", "k1", T0.plus(Duration.ofHours(26))))
                .map(Execution::number)
                .contains(2L);
    }

    /**
     * Two stores on one database (two servers) create executions of one job and append events to
     * one execution at once: the numbers are 1..n without a gap or a repeat, and so are the
     * execution's event numbers.
     */
    @Test
    void twoStoresNumberExecutionsAndEventsWithoutGapsOrRepeats() throws Exception {
        int perThread = 20;
        int threads = 4;
        long shared = store.create(newExecution("shared", T0, Optional.empty()), Event.of("queued", null, T0, "api"))
                .execution()
                .number();
        try (Store second = another();
                ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Long>>> made = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Store mine = t % 2 == 0 ? store : second;
                int thread = t;
                made.add(pool.submit(() -> {
                    go.await();
                    List<Long> numbers = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        numbers.add(mine.create(
                                        newExecution("gapless", T0, Optional.empty()),
                                        Event.of("queued", null, T0, "api"))
                                .execution()
                                .number());
                        assertThat(mine.event("shared", shared, Event.of("progress", thread + "-" + i, T0, "job")))
                                .isTrue();
                    }
                    return numbers;
                }));
            }
            go.countDown();
            List<Long> all = new ArrayList<>();
            for (var f : made) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(all)
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.LongStream.rangeClosed(1, threads * perThread)
                            .boxed()
                            .toList());
            List<Event> events = second.events("shared", shared);
            assertThat(events).hasSize(1 + threads * perThread);
            assertThat(events.stream().skip(1).map(e -> e.cause().orElseThrow()))
                    .doesNotHaveDuplicates()
                    .hasSize(threads * perThread);
        }
    }

    @Test
    void eventsSetTheStatusInOrder() {
        Execution e = create("a", T0);
        store.starting("a", e.number());
        store.started("a", e.number(), 4242, Event.of("start", null, T0.plusSeconds(1), "overseer"));
        store.event("a", e.number(), Event.of("progress", "half way", T0.plusSeconds(2), "job"));
        assertThat(store.execution("a", 1).orElseThrow().status()).isEqualTo("progress");
        store.event("a", e.number(), Event.of("progress", "done", T0.plusSeconds(3), "job"));
        store.finished(
                "a",
                e.number(),
                ExecutionState.RUNNING,
                OptionalInt.of(0),
                Event.of("complete", null, T0.plusSeconds(4), "overseer"));

        Execution done = store.execution("a", 1).orElseThrow();
        assertThat(done.status()).isEqualTo("complete");
        assertThat(done.startedAt()).contains(T0.plusSeconds(1));
        assertThat(done.finishedAt()).contains(T0.plusSeconds(4));
        assertThat(done.exitCode()).hasValue(0);
        assertThat(done.pid()).hasValue(4242);
        assertThat(done.state()).isEqualTo(ExecutionState.DONE);
        assertThat(done.secretsJson()).isEqualTo("{}");
        assertThat(store.events("a", 1))
                .extracting(Event::name)
                .containsExactly("queued", "start", "progress", "progress", "complete");
        assertThat(store.latestEvent("a", 1, "progress").orElseThrow().cause()).contains("done");
        assertThat(store.latestEvent("a", 1, "missing")).isEmpty();
        assertThat(store.execution("a", 2)).isEmpty();
    }

    @Test
    void listsNewestFirstWithPagingAndStatus() {
        for (int i = 0; i < 5; i++) {
            create("a", T0.plusSeconds(i));
        }
        store.cancelled("a", 2, Event.of("fail", "cancelled", T0, "overseer"));
        store.cancelled("a", 4, Event.of("fail", "cancelled", T0, "overseer"));
        assertThat(store.executions("a", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 3)))
                .extracting(Execution::number)
                .containsExactly(5L, 4L, 3L);
        assertThat(store.executions("a", new ExecutionQuery(OptionalLong.of(3), Optional.empty(), 10)))
                .extracting(Execution::number)
                .containsExactly(2L, 1L);
        assertThat(store.executions("a", new ExecutionQuery(OptionalLong.empty(), Optional.of("fail"), 10)))
                .extracting(Execution::number)
                .containsExactly(4L, 2L);
        assertThat(store.executions("zzz", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 10)))
                .isEmpty();
    }

    @Test
    void listsRecentExecutionsOfAllJobsWithACursorThatSkipsNothingOnTies() {
        create("a", T0); // a/1
        create("b", T0.plusSeconds(1)); // b/1
        create("a", T0.plusSeconds(1)); // a/2, the same moment as b/1
        create("c", T0.plusSeconds(2)); // c/1
        store.cancelled("b", 1, Event.of("fail", "cancelled", T0, "overseer"));
        List<Execution> first = store.recent(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 2);
        assertThat(first).extracting(e -> e.job() + "/" + e.number()).containsExactly("c/1", "b/1");
        Execution last = first.getLast();
        assertThat(store.recent(
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(new Store.Cursor(last.createdAt().toEpochMilli(), last.job(), last.number())),
                        10))
                .extracting(e -> e.job() + "/" + e.number())
                .containsExactly("a/2", "a/1");
        assertThat(store.recent(Optional.of("fail"), Optional.empty(), Optional.empty(), Optional.empty(), 10))
                .extracting(e -> e.job() + "/" + e.number())
                .containsExactly("b/1");
        assertThat(store.recent(Optional.empty(), Optional.empty(), Optional.of("api"), Optional.empty(), 10))
                .hasSize(4);
        assertThat(store.recent(Optional.empty(), Optional.empty(), Optional.of("schedule"), Optional.empty(), 10))
                .isEmpty();
    }

    @Test
    void knowsTheLatestPerJobAndWhatIsUnfinished() {
        create("a", T0);
        create("a", T0.plusSeconds(1));
        create("b", T0.plusSeconds(2));
        store.starting("a", 1);
        store.started("a", 1, 1, Event.of("start", null, T0, "overseer"));
        store.starting("b", 1);
        store.finished(
                "b",
                1,
                ExecutionState.STARTING,
                OptionalInt.empty(),
                Event.of("lost", "server restarted", T0, "overseer"));
        assertThat(store.latest()).containsOnlyKeys("a", "b");
        assertThat(store.latest().get("a").number()).isEqualTo(2);
        assertThat(store.unfinished())
                .extracting(e -> e.job() + "/" + e.number())
                .containsExactly("a/1", "a/2");
        assertThat(store.execution("b", 1).orElseThrow().exitCode()).isEmpty();
    }

    @Test
    void keepsTextAsGiven() {
        String odd = "quote ' \" back\\slash ; DROP TABLE executions; -- ünïcödé";
        Execution e = create("a", T0);
        store.event("a", e.number(), Event.of("note", odd, T0, "api"));
        assertThat(store.latestEvent("a", 1, "note").orElseThrow().cause()).contains(odd);
        assertThat(List.of(store.execution("a", 1).orElseThrow().status())).containsExactly("note");
    }

    @Test
    void noEventIsRecordedAfterTheLast() {
        Execution e = create("a", T0);
        store.starting("a", e.number());
        store.started("a", e.number(), 1, Event.of("start", null, T0, "overseer"));
        store.finished(
                "a", e.number(), ExecutionState.ENDING, OptionalInt.of(0), Event.of("complete", null, T0, "overseer"));
        assertThat(store.event("a", e.number(), Event.of("note", null, T0, "api")))
                .isFalse();
        Execution done = store.execution("a", 1).orElseThrow();
        assertThat(done.status()).isEqualTo("complete");
        assertThat(store.events("a", 1)).extracting(Event::name).containsExactly("queued", "start", "complete");
    }

    @Test
    void aMoveFromAStateTheExecutionIsNoLongerInIsRefusedAndWritesNothing() {
        Execution e = create("a", T0);
        store.cancelled("a", e.number(), Event.of("fail", "cancelled", T0, "overseer"));
        assertThatThrownBy(() -> store.starting("a", e.number()))
                .isInstanceOf(StaleState.class)
                .hasMessageContaining("is cancelled, not queued");
        assertThatThrownBy(() -> store.finished(
                        "a",
                        e.number(),
                        ExecutionState.RUNNING,
                        OptionalInt.of(0),
                        Event.of("complete", null, T0, "x")))
                .isInstanceOf(StaleState.class);
        assertThat(store.events("a", 1)).extracting(Event::name).containsExactly("queued", "fail");
        assertThat(store.execution("a", 1).orElseThrow().state()).isEqualTo(ExecutionState.CANCELLED);
    }

    @Test
    void theStartingStateIsRecordedBeforeTheStartSoARestartSeesIt() throws Exception {
        Execution e = create("a", T0);
        store.starting("a", e.number());
        store = reopen(store);
        Execution seen = store.unfinished().getFirst();
        assertThat(seen.state()).isEqualTo(ExecutionState.STARTING);
        assertThat(seen.startedAt()).isEmpty();
    }

    @Test
    void eachEventIsStoredWithItsDeliveriesWhichLeaveInOrderPerHookAndExecution() {
        Execution a = create("hooked", T0);
        Execution b = create("hooked", T0);
        create("plain", T0);
        store.event("hooked", a.number(), Event.of("done", null, T0.plusSeconds(1), "job"));
        assertThat(store.deliveries("hooked", a.number()))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-1-queued", "A-hooked-1-done", "B-hooked-1-done");
        assertThat(store.deliveries("plain", 1)).isEmpty();
        assertThat(store.delivery("A-hooked-1-done").orElseThrow().payload()).isEqualTo("{\"status\":\"done\"}");
        // The oldest pending of each (hook, execution) is due; B has nothing older.
        Instant now = T0.plusSeconds(5);
        assertThat(due(now, Set.of(), 10))
                .extracting(Delivery::id)
                .containsExactlyInAnyOrder("A-hooked-1-queued", "A-hooked-2-queued", "B-hooked-1-done");
        // A hook that can take no more is left out, so that the limit goes to the others.
        assertThat(due(now, Set.of("A"), 1)).extracting(Delivery::id).containsExactly("B-hooked-1-done");
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.PENDING,
                        OptionalInt.of(500),
                        Optional.of("HTTP 500"),
                        Optional.of(now.plusSeconds(30)),
                        now));
        // A retry waiting holds back the later events of its execution, not those of others; the
        // next due time is the retry's, not that of an event held back behind it.
        assertThat(due(now, Set.of(), 10))
                .extracting(Delivery::id)
                .containsExactlyInAnyOrder("A-hooked-2-queued", "B-hooked-1-done");
        assertThat(store.nextDeliveryDue()).contains(T0);
        attempted(
                "A-hooked-2-queued",
                new Delivery.Attempt(
                        Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), now));
        attempted(
                "B-hooked-1-done",
                new Delivery.Attempt(
                        Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), now));
        assertThat(store.nextDeliveryDue()).contains(now.plusSeconds(30));
        assertThat(store.deliveries(Optional.of("failing"), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-1-queued");
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), now));
        assertThat(due(now, Set.of(), 10)).extracting(Delivery::id).contains("A-hooked-1-done");
        Delivery sent = store.delivery("A-hooked-1-queued").orElseThrow();
        assertThat(sent.attempts()).isEqualTo(2);
        assertThat(sent.state()).isEqualTo(Delivery.State.DELIVERED);
        assertThat(sent.finishedAt()).contains(now);
        assertThat(store.redeliver("A-hooked-1-queued", now, now.plusSeconds(60)))
                .isFalse();
    }

    /** Runs {@code job}'s new execution to RUNNING, with its events at T0 + 1 s. */
    private Execution running(String job) {
        Execution e = create(job, T0);
        store.starting(job, e.number());
        store.started(job, e.number(), 4242, Event.of("start", null, T0.plusSeconds(1), "overseer"));
        return e;
    }

    /** A running execution given {@code before}, then ended by {@code last}, has {@code expected}. */
    private Execution endsAs(RunState expected, OptionalInt exit, Event last, Event... before) {
        Execution e = running("states");
        for (Event event : before) {
            store.event("states", e.number(), event);
        }
        store.finished("states", e.number(), ExecutionState.RUNNING, exit, last);
        assertThat(stateOf(e))
                .as("ended by %s after %d event(s)", last.name(), before.length)
                .isEqualTo(expected);
        return e;
    }

    private RunState stateOf(Execution e) {
        return store.execution(e.job(), e.number()).orElseThrow().runState();
    }

    /**
     * The state beside the status: set by the write that records each change, whatever custom
     * events come between, and filterable in the lists.
     */
    @Test
    void eachExecutionHasAStateBesideItsStatus() {
        Execution queued = create("states", T0);
        assertThat(stateOf(queued)).isEqualTo(RunState.QUEUED);

        Execution ok = running("states");
        assertThat(stateOf(ok)).isEqualTo(RunState.RUNNING);
        store.event("states", ok.number(), Event.of("stop", null, T0.plusSeconds(2), "api"));
        assertThat(stateOf(ok)).isEqualTo(RunState.STOPPED);
        store.event("states", ok.number(), Event.of("halfway", null, T0.plusSeconds(3), "job"));
        assertThat(store.execution("states", ok.number()).orElseThrow())
                .extracting(Execution::status, Execution::runState)
                .containsExactly("halfway", RunState.STOPPED);
        store.event("states", ok.number(), Event.of("continue", null, T0.plusSeconds(4), "api"));
        assertThat(stateOf(ok)).isEqualTo(RunState.RUNNING);
        store.finished(
                "states",
                ok.number(),
                ExecutionState.RUNNING,
                OptionalInt.of(0),
                Event.of("complete", null, T0, "overseer"));
        assertThat(stateOf(ok)).isEqualTo(RunState.SUCCEEDED);

        endsAs(RunState.FAILED, OptionalInt.of(3), Event.of("fail", "exit code 3", T0, "overseer"));
        Execution killed = endsAs(
                RunState.KILLED,
                OptionalInt.empty(),
                Event.of("fail", "killed by signal 9", T0, "overseer"),
                Event.of("kill", null, T0.plusSeconds(2), "api"));
        // The server's own kill (overlap: replace, a shutdown) is not a caller's: failed.
        endsAs(
                RunState.FAILED,
                OptionalInt.empty(),
                Event.of("fail", "killed by signal 9", T0, "overseer"),
                Event.of("kill", "replaced by execution 9", T0, "overseer"));
        endsAs(RunState.TIMED_OUT, OptionalInt.empty(), Event.of("time-out", "after 1s", T0, "overseer"));
        // A kill kept while it was starting ends it before it started: cancelled.
        Execution starting = create("states", T0);
        store.starting("states", starting.number());
        store.signalPending("states", starting.number(), Event.of("kill", "replaced by execution 9", T0, "overseer"));
        store.finished(
                "states",
                starting.number(),
                ExecutionState.STARTING,
                OptionalInt.empty(),
                Event.of("fail", "cancelled by 'kill' before it started", T0, "overseer"));
        assertThat(stateOf(starting)).isEqualTo(RunState.CANCELLED);
        // A stop in the moment after the start was committed, kept for the run to send: stopped.
        Execution justStarted = running("states");
        store.signalPending("states", justStarted.number(), Event.of("stop", null, T0.plusSeconds(2), "api"));
        assertThat(stateOf(justStarted)).isEqualTo(RunState.STOPPED);
        endsAs(RunState.LOST, OptionalInt.empty(), Event.of("lost", "the server stopped", T0, "overseer"));

        Execution cancelled = create("states", T0);
        store.cancelled(
                "states",
                cancelled.number(),
                Event.of("kill", null, T0, "api"),
                Event.of("fail", "cancelled by 'kill' before it started", T0, "overseer"));
        assertThat(stateOf(cancelled)).isEqualTo(RunState.CANCELLED);

        Execution skipped = store.skipped(
                        newExecution("states", T0, Optional.empty()),
                        Event.of("queued", null, T0, "schedule"),
                        Event.of("skipped", "its overlap policy is skip", T0, "overseer"))
                .execution();
        assertThat(skipped.runState()).isEqualTo(RunState.SKIPPED);

        assertThat(store.executions(
                        "states",
                        new ExecutionQuery(
                                OptionalLong.empty(),
                                Optional.empty(),
                                Optional.of(RunState.KILLED),
                                Optional.empty(),
                                10)))
                .extracting(Execution::number)
                .containsExactly(killed.number());
        assertThat(store.recent(Optional.empty(), Optional.of(RunState.QUEUED), Optional.empty(), Optional.empty(), 10))
                .extracting(Execution::number)
                .containsExactly(queued.number());
    }

    /** A row an earlier binary wrote or ended (no state, or one left behind) reads with the state its row implies. */
    @Test
    void aStateMissingOrLeftBehindByAnEarlierBinaryIsDerivedFromTheRow() {
        assertThat(RunState.read(null, ExecutionState.DONE, "complete")).isEqualTo(RunState.SUCCEEDED);
        assertThat(RunState.read("queued", ExecutionState.DONE, "time-out")).isEqualTo(RunState.TIMED_OUT);
        assertThat(RunState.read("running", ExecutionState.CANCELLED, "skipped"))
                .isEqualTo(RunState.SKIPPED);
        assertThat(RunState.read(null, ExecutionState.RUNNING, "stop")).isEqualTo(RunState.STOPPED);
        assertThat(RunState.read("killed", ExecutionState.DONE, "fail")).isEqualTo(RunState.KILLED);
        assertThat(RunState.read("stopped", ExecutionState.RUNNING, "progress")).isEqualTo(RunState.STOPPED);
    }

    /**
     * The outbox's claims: a claimed delivery is not claimed again until its claim runs out or is
     * given up; only its holder records its outcome; renewal keeps it; two stores claiming at once
     * each take different deliveries, and together all of them.
     */
    @Test
    void aDeliveryIsClaimedByOneHolderAtATimeAndOnlyItsHolderRecordsIt() throws Exception {
        for (int i = 0; i < 3; i++) {
            create("hooked", T0);
        }
        Instant now = T0.plusSeconds(5);
        assertThat(store.claimDeliveries("one", now, now.plusSeconds(60), Store.HookRoom.unlimited(), 1))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-1-queued");
        assertThat(store.claimDeliveries("two", now, now.plusSeconds(60), Store.HookRoom.unlimited(), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-2-queued", "A-hooked-3-queued");
        assertThat(store.claimDeliveries(
                        "three", now.plusSeconds(30), now.plusSeconds(90), Store.HookRoom.unlimited(), 10))
                .isEmpty();
        assertThat(store.nextDeliveryDue()).contains(now.plusSeconds(60));
        Delivery.Attempt ok = new Delivery.Attempt(
                Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), now);
        // Not "two"'s: nothing is written.
        assertThat(store.deliveriesAttempted("two", java.util.Map.of("A-hooked-1-queued", ok)))
                .containsExactly("A-hooked-1-queued");
        assertThat(store.delivery("A-hooked-1-queued").orElseThrow().state()).isEqualTo(Delivery.State.PENDING);
        // Renewed, "one"'s claim outlasts the first expiry; "two"'s runs out and is taken over.
        store.renewDeliveryClaims("one", Set.of("A-hooked-1-queued"), now.plusSeconds(120));
        assertThat(store.claimDeliveries(
                        "three", now.plusSeconds(61), now.plusSeconds(200), Store.HookRoom.unlimited(), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-2-queued", "A-hooked-3-queued");
        assertThat(store.deliveriesAttempted("two", java.util.Map.of("A-hooked-2-queued", ok)))
                .containsExactly("A-hooked-2-queued");
        assertThat(store.deliveriesAttempted("one", java.util.Map.of("A-hooked-1-queued", ok)))
                .isEmpty();
        assertThat(store.delivery("A-hooked-1-queued").orElseThrow().state()).isEqualTo(Delivery.State.DELIVERED);
        // A start gives up the claims of earlier runs.
        assertThat(store.releaseDeliveryClaims("four")).isEqualTo(2);
        assertThat(store.claimDeliveries(
                        "four", now.plusSeconds(62), now.plusSeconds(100), Store.HookRoom.unlimited(), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-2-queued", "A-hooked-3-queued");
    }

    /** A claim takes no more for a hook than its room, and leaves the rest unclaimed for later. */
    @Test
    void aClaimTakesNoMoreForAHookThanItHasRoomFor() {
        for (int i = 0; i < 5; i++) {
            create("hooked", T0);
        }
        Instant now = T0.plusSeconds(5);
        assertThat(store.claimDeliveries(
                        "one", now, now.plusSeconds(60), new Store.HookRoom(3, java.util.Map.of("A", 1)), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-1-queued", "A-hooked-2-queued");
        assertThat(store.claimDeliveries(
                        "one", now, now.plusSeconds(60), new Store.HookRoom(3, java.util.Map.of("A", 3)), 10))
                .isEmpty();
        assertThat(store.claimDeliveries("two", now, now.plusSeconds(60), Store.HookRoom.unlimited(), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-3-queued", "A-hooked-4-queued", "A-hooked-5-queued");
    }

    @Test
    void twoStoresClaimingAtOnceTakeEachDeliveryOnce() throws Exception {
        int executions = 60;
        for (int i = 0; i < executions; i++) {
            create("hooked", T0);
        }
        Instant now = T0.plusSeconds(5);
        List<String> all = claimedInFourThreadsOnTwoStores((mine, t) ->
                mine.claimDeliveries("claimant-" + t, now, now.plusSeconds(60), Store.HookRoom.unlimited(), 5).stream()
                        .map(Delivery::id)
                        .toList());
        assertThat(all).doesNotHaveDuplicates().hasSize(executions);
    }

    /** One claim of a racing thread ({@code t}, 0 to 3) on its store: what it took, empty when nothing is left. */
    @FunctionalInterface
    interface OneClaim {
        List<String> claim(Store mine, int t) throws Exception;
    }

    /**
     * Four threads, two on this store and two on {@link #another} on the same database, each
     * claiming until a claim takes nothing, all let go at once: everything they took.
     */
    List<String> claimedInFourThreadsOnTwoStores(OneClaim once) throws Exception {
        try (Store second = another();
                ExecutorService pool = Executors.newFixedThreadPool(4)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<String>>> claims = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Store mine = t % 2 == 0 ? store : second;
                int thread = t;
                claims.add(pool.submit(() -> {
                    go.await();
                    List<String> taken = new ArrayList<>();
                    List<String> got;
                    do {
                        got = once.claim(mine, thread);
                        taken.addAll(got);
                    } while (!got.isEmpty());
                    return taken;
                }));
            }
            go.countDown();
            List<String> all = new ArrayList<>();
            for (var f : claims) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            return all;
        }
    }

    @Test
    void aFailedDeliveryCanBeSentAgainAndSurvivesARestart() throws Exception {
        create("hooked", T0);
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.FAILED, OptionalInt.of(410), Optional.of("gone"), Optional.empty(), T0));
        assertThat(due(T0.plusSeconds(1), Set.of(), 10)).isEmpty();
        assertThat(store.nextDeliveryDue()).isEmpty();
        store = reopen(store);
        assertThat(store.deliveries(Optional.of("failed"), 10)).hasSize(1);
        assertThat(store.redeliver("A-hooked-1-queued", T0.plusSeconds(2), T0.plusSeconds(100)))
                .isTrue();
        Delivery again = store.delivery("A-hooked-1-queued").orElseThrow();
        assertThat(again.state()).isEqualTo(Delivery.State.PENDING);
        assertThat(again.nextAttemptAt()).contains(T0.plusSeconds(2));
        assertThat(again.expiresAt()).isEqualTo(T0.plusSeconds(100));
    }

    @Test
    void concurrentWritersAreEachCommittedOnce() throws Exception {
        int threads = 16;
        int each = 25;
        try (var pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        create("many", T0.plusMillis(thread * 1000L + i));
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
        }
        store = reopen(store);
        List<Execution> all = store.executions("many", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 500));
        assertThat(all).hasSize(threads * each);
        assertThat(all).extracting(Execution::number).doesNotHaveDuplicates();
        assertThat(all)
                .allSatisfy(e -> assertThat(store.events(e.job(), e.number()))
                        .extracting(Event::name)
                        .containsExactly("queued"));
    }

    /** Thrown by a write's own work; an {@link Error} is what a transaction must not commit half of. */
    static final class Boom extends Error {
        Boom() {
            super("boom");
        }
    }

    @Test
    void aWriteThatThrowsInsideAGroupFailsAloneAndTheOthersAreStored() throws Exception {
        failingWriteInAGroup(new IllegalStateException("cannot render"));
    }

    @Test
    void aWriteThatThrowsAnErrorInsideAGroupFailsAloneAndTheOthersAreStored() throws Exception {
        failingWriteInAGroup(new Boom());
    }

    /**
     * One writer holds the store inside its transaction (its command renders only once a latch
     * opens) while an innocent, a guilty and another innocent write queue behind it; they are
     * committed as one group, in which the guilty one throws {@code failure}.
     */
    private void failingWriteInAGroup(Throwable failure) throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Store.Created> holder = pool.submit(() -> store.create(
                    rendering("group", n -> {
                        inside.countDown();
                        awaitOpen(release);
                        return new NewExecution.Prepared("echo " + n, "{}");
                    }),
                    Event.of("queued", null, T0, "api")));
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            Future<Store.Created> before = pool.submit(() -> create("group"));
            awaitQueuedWrites(1);
            Future<Store.Created> guilty = pool.submit(() -> store.create(
                    rendering("group", n -> {
                        throw sneaky(failure);
                    }),
                    Event.of("queued", null, T0, "api")));
            awaitQueuedWrites(2);
            Future<Store.Created> after = pool.submit(() -> create("group"));
            awaitQueuedWrites(3);
            release.countDown();

            assertThat(holder.get(10, TimeUnit.SECONDS).execution().number()).isEqualTo(1);
            assertThatThrownBy(() -> guilty.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isSameAs(failure);
            Store.Created first = before.get(10, TimeUnit.SECONDS);
            Store.Created second = after.get(10, TimeUnit.SECONDS);
            assertThat(List.of(first.existing(), second.existing())).containsExactly(false, false);
            // Each alone after the group's rollback: the guilty one's number is given back. (On
            // PostgreSQL the two wait on a row lock, which does not say who is first.)
            assertThat(List.of(first.execution().number(), second.execution().number()))
                    .containsExactlyInAnyOrder(2L, 3L);
        }
        store = reopen(store);
        List<Execution> all = store.executions("group", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 10));
        assertThat(all).extracting(Execution::number).containsExactly(3L, 2L, 1L);
        assertThat(all)
                .allSatisfy(e -> assertThat(store.events(e.job(), e.number()))
                        .extracting(Event::name)
                        .containsExactly("queued"));
        assertThat(store.writeFailure()).isEmpty();
    }

    private Store.Created create(String job) {
        return store.create(newExecution(job, T0, Optional.empty()), Event.of("queued", null, T0, "api"));
    }

    /** A new execution whose command renders with {@code prepare}, inside the store's transaction. */
    static NewExecution rendering(String job, java.util.function.LongFunction<NewExecution.Prepared> prepare) {
        NewExecution e = newExecution(job, T0, Optional.empty());
        return withPriority(e, e.priority(), prepare);
    }

    /** {@code e} with {@code priority}, rendering with {@code prepare}. */
    static NewExecution withPriority(
            NewExecution e, int priority, java.util.function.LongFunction<NewExecution.Prepared> prepare) {
        return new NewExecution(
                e.job(),
                e.trigger(),
                e.commit(),
                e.createdAt(),
                e.paramsJson(),
                e.secretsJson(),
                priority,
                e.scheduledAt(),
                e.runId(),
                e.idempotencyKey(),
                e.origin(),
                prepare);
    }

    private static void awaitOpen(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the held writer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Throws any throwable from a lambda that may throw only unchecked ones. */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }

    /** Waits until {@code n} writes wait in the store's queue for the writer holding it. */
    void awaitQueuedWrites(int n) throws InterruptedException {
        JdbcStore jdbc = (JdbcStore) store;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (jdbc.queuedWrites() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + jdbc.queuedWrites() + " of " + n + " writes queued");
            }
            Thread.sleep(1);
        }
    }

    static NewExecution scheduled(String job, String scheduleId, Instant fire) {
        NewExecution e = newExecution(job, fire, Optional.empty());
        return new NewExecution(
                e.job(),
                "schedule",
                e.commit(),
                e.createdAt(),
                e.paramsJson(),
                e.secretsJson(),
                0,
                Optional.of(fire),
                e.runId(),
                Optional.empty(),
                NewExecution.Origin.schedule(scheduleId),
                e.prepare());
    }

    static NewExecution retry(String job, long of, Instant notBefore) {
        NewExecution e = newExecution(job, T0, Optional.empty());
        return new NewExecution(
                e.job(),
                "retry",
                e.commit(),
                e.createdAt(),
                e.paramsJson(),
                e.secretsJson(),
                0,
                Optional.empty(),
                e.runId(),
                Optional.empty(),
                NewExecution.Origin.retry(of, notBefore),
                e.prepare());
    }

    /** A queued execution of {@code job} with {@code priority}, created at {@code at}, whose job allows {@code limit} at once. */
    Execution queued(String job, Instant at, int priority, java.util.OptionalInt limit) {
        NewExecution e = withPriority(
                newExecution(job, at, Optional.empty()),
                priority,
                n -> new NewExecution.Prepared("echo " + n, "{}", limit, List.of()));
        return store.create(e, Event.of("queued", null, at, "api")).execution();
    }

    private static List<String> keys(List<Execution> executions) {
        return executions.stream().map(e -> e.job() + "/" + e.number()).toList();
    }

    @Test
    void theQueueClaimTakesTheBestDueExecutionsFirstWithinEachJobsConcurrency() {
        java.util.OptionalInt none = java.util.OptionalInt.empty();
        java.util.OptionalInt one = java.util.OptionalInt.of(1);
        queued("plain", T0, 0, none); // plain/1
        queued("single", T0.plusSeconds(1), 0, one); // single/1
        queued("single", T0.plusSeconds(2), 5, one); // single/2: better, so it goes first of its job
        queued("urgent", T0.plusSeconds(3), 9, none); // urgent/1
        store.create(retry("plain", 1, T0.plusSeconds(60)), Event.of("queued", null, T0, "retry")); // plain/2, not due
        queued("plain", T0.plusSeconds(4), 0, none); // plain/3

        Instant now = T0.plusSeconds(10);
        assertThat(keys(store.claim(2, now))).containsExactly("urgent/1", "single/2");
        assertThat(store.execution("urgent", 1).orElseThrow().state()).isEqualTo(ExecutionState.STARTING);
        // single/1 waits for single/2, which holds its job's only place; the retry for its time.
        assertThat(keys(store.claim(10, now))).containsExactly("plain/1", "plain/3");
        assertThat(store.claim(10, now)).isEmpty();
        assertThat(store.execution("single", 1).orElseThrow().state()).isEqualTo(ExecutionState.QUEUED);

        store.started("single", 2, 4242, Event.of("start", null, now, "overseer"));
        assertThat(store.claim(10, now)).as("single/2 runs").isEmpty();
        store.finished(
                "single",
                2,
                ExecutionState.RUNNING,
                java.util.OptionalInt.of(0),
                Event.of("done", null, now.plusSeconds(1), "overseer"));
        assertThat(keys(store.claim(10, now))).containsExactly("single/1");
        assertThat(keys(store.claim(10, T0.plusSeconds(60)))).containsExactly("plain/2");
        // Given back, it is claimed again.
        store.backToQueue("plain", 2);
        assertThat(keys(store.claim(1, T0.plusSeconds(60)))).containsExactly("plain/2");
    }

    @Test
    void twoStoresClaimingTheQueueAtOnceTakeEachExecutionOnceAndKeepAJobsConcurrency() throws Exception {
        for (int i = 0; i < 60; i++) {
            queued("job-" + (i % 3), T0.plusMillis(i), 0, java.util.OptionalInt.empty());
        }
        for (int i = 0; i < 10; i++) {
            queued("limited", T0.plusMillis(i), 0, java.util.OptionalInt.of(2));
        }
        Instant now = T0.plusSeconds(5);
        List<String> all = claimedInFourThreadsOnTwoStores((mine, t) -> keys(mine.claim(3, now)));
        assertThat(all).doesNotHaveDuplicates().hasSize(62);
        assertThat(all.stream().filter(k -> k.startsWith("limited/"))).hasSize(2);
    }

    /** One execution of {@code job} created under {@code rules} by {@code on}, as a trigger creates it. */
    static Store.Inserted admitted(Store on, String job, Store.Admit rules) {
        return admitted(on, newExecution(job, T0, Optional.empty()), rules, Optional.empty());
    }

    static Store.Inserted admitted(
            Store on,
            NewExecution e,
            Store.Admit rules,
            Optional<java.util.function.Function<Store.Refusal, Event>> onRefusal) {
        return on.createAll(List.of(new Store.Insert(e, Event.of("queued", null, T0, "api"), Optional.empty())
                        .admittedUnder(rules, onRefusal)))
                .getFirst();
    }

    static Store.Admit rules(int limit, Store.OnLimit onLimit, boolean mayStart) {
        return new Store.Admit(OptionalInt.of(limit), onLimit, 100, mayStart);
    }

    static Store.Replaced replaced(Store.Inserted inserted) {
        assertThat(inserted).isInstanceOf(Store.Inserted.Done.class);
        return ((Store.Inserted.Done) inserted).replaced();
    }

    static Execution madeBy(Store.Inserted inserted) {
        assertThat(inserted).isInstanceOf(Store.Inserted.Done.class);
        return ((Store.Inserted.Done) inserted).created().execution();
    }

    @Test
    void aNewExecutionIsAdmittedInItsCreatingTransactionUnderItsJobsRulesAndTheQueuesBound() {
        // overlap: skip at its limit is refused, naming the holders, and gives its number back.
        assertThat(madeBy(admitted(store, "skip", rules(1, Store.OnLimit.SKIP, false)))
                        .state())
                .isEqualTo(ExecutionState.QUEUED);
        assertThat(admitted(store, "skip", rules(1, Store.OnLimit.SKIP, false)))
                .isEqualTo(new Store.Inserted.Refused(new Store.Refusal(Store.Refusal.Kind.AT_LIMIT, 1, List.of(1L))));
        store.cancelled("skip", 1, Event.of("fail", "cancelled", T0, "api"));
        assertThat(madeBy(admitted(store, "skip", rules(1, Store.OnLimit.SKIP, false)))
                        .number())
                .as("the refused one left no gap")
                .isEqualTo(2);

        // overlap: replace chooses the oldest unfinished ones beyond the places left: a queued
        // one is cancelled in the same transaction, a running one is left for its server to
        // kill, and chosen again by the next (still unfinished): the newest always wins.
        admitted(store, "replace", rules(1, Store.OnLimit.REPLACE, false)); // replace/1
        assertThat(keys(store.claim(1, T0))).containsExactly("replace/1");
        store.started("replace", 1, 4242, Event.of("start", null, T0, "overseer"));
        assertThat(replaced(admitted(store, "replace", rules(1, Store.OnLimit.REPLACE, false)))) // replace/2
                .isEqualTo(new Store.Replaced(List.of(), List.of(1L)));
        assertThat(replaced(admitted(store, "replace", rules(1, Store.OnLimit.REPLACE, false)))) // replace/3
                .isEqualTo(new Store.Replaced(List.of(2L), List.of(1L)));
        Execution cancelled = store.execution("replace", 2).orElseThrow();
        assertThat(cancelled.state()).isEqualTo(ExecutionState.CANCELLED);
        assertThat(store.events("replace", 2))
                .extracting(e -> e.name() + ": " + e.cause().orElse(""))
                .containsExactly(
                        "queued: ", "kill: replaced by execution 3", "fail: cancelled by 'kill' before it started");
        store.finished(
                "replace",
                1,
                ExecutionState.RUNNING,
                OptionalInt.empty(),
                Event.of("fail", "killed", T0.plusSeconds(1), "overseer"));
        store.cancelled("replace", 3, Event.of("fail", "cancelled", T0, "api"));

        // Admitted at once only where the creating server has a slot, nothing is queued and its
        // job is under its limit.
        store.cancelled("skip", 2, Event.of("fail", "cancelled", T0, "api"));
        assertThat(store.unfinished()).isEmpty();
        Execution first = madeBy(admitted(store, "once", rules(1, Store.OnLimit.QUEUE, true)));
        assertThat(first.state()).isEqualTo(ExecutionState.STARTING);
        assertThat(madeBy(admitted(store, "once", rules(1, Store.OnLimit.QUEUE, true)))
                        .state())
                .as("its job is at its limit")
                .isEqualTo(ExecutionState.QUEUED);
        assertThat(madeBy(admitted(store, "other", rules(5, Store.OnLimit.QUEUE, true)))
                        .state())
                .as("something is queued, which goes first")
                .isEqualTo(ExecutionState.QUEUED);

        // The queue's bound counts every queued execution, whatever its job; it refuses first.
        Store.Admit bounded = new Store.Admit(OptionalInt.empty(), Store.OnLimit.QUEUE, 2, false);
        assertThat(admitted(store, "third", bounded))
                .isEqualTo(new Store.Inserted.Refused(new Store.Refusal(Store.Refusal.Kind.QUEUE_FULL, 2, List.of())));
        assertThat(store.executions("third", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 10)))
                .isEmpty();
    }

    @Test
    void aScheduledFireThatAdmissionRefusesIsRecordedEndedWithWhy() {
        admitted(store, "cron", rules(1, Store.OnLimit.SKIP, false)); // cron/1 holds the only place
        Store.Inserted fire = admitted(
                store,
                scheduled("cron", "s-0", T0),
                rules(1, Store.OnLimit.SKIP, false),
                Optional.of(r -> Event.of("skipped", "held by " + r.holders(), T0, "overseer")));

        Store.Inserted.Done done = (Store.Inserted.Done) fire;
        assertThat(done.refused()).hasValueSatisfying(r -> assertThat(r.kind()).isEqualTo(Store.Refusal.Kind.AT_LIMIT));
        Execution skipped = done.created().execution();
        assertThat(skipped.number()).isEqualTo(2);
        assertThat(skipped.state()).isEqualTo(ExecutionState.CANCELLED);
        assertThat(skipped.status()).isEqualTo("skipped");
        assertThat(store.events("cron", 2))
                .extracting(e -> e.cause().orElse(null))
                .containsExactly(null, "held by [1]");
    }

    @Test
    void twoStoresAdmittingAtOnceKeepAJobsLimitAndTheQueuesBoundWithoutGaps() throws Exception {
        List<String> skip = claimedInFourThreadsOnTwoStores((mine, t) ->
                admitted(mine, "skip", rules(2, Store.OnLimit.SKIP, false)) instanceof Store.Inserted.Done done
                        ? List.of(keys(List.of(done.created().execution())).getFirst())
                        : List.of());
        assertThat(skip).containsExactlyInAnyOrder("skip/1", "skip/2");

        Store.Admit bounded = new Store.Admit(OptionalInt.empty(), Store.OnLimit.QUEUE, 7, false);
        List<String> queue = claimedInFourThreadsOnTwoStores(
                (mine, t) -> admitted(mine, "busy", bounded) instanceof Store.Inserted.Done done
                        ? List.of(keys(List.of(done.created().execution())).getFirst())
                        : List.of());
        // The two of "skip" are queued too: five more fit.
        assertThat(queue).containsExactlyInAnyOrder("busy/1", "busy/2", "busy/3", "busy/4", "busy/5");
    }

    @Test
    void aScheduleStateIsSavedReplacedAndSurvivesARestart() throws Exception {
        assertThat(store.scheduleState("cron", "s-0")).isEmpty();
        store.saveScheduleState("cron", "s-0", new ScheduleState(T0, T0.plusSeconds(60), Optional.empty()));
        store.saveScheduleState("cron", "s-1", new ScheduleState(T0, T0, Optional.of(T0)));
        assertThat(store.scheduleState("cron", "s-0"))
                .contains(new ScheduleState(T0, T0.plusSeconds(60), Optional.empty()));
        store.saveScheduleState(
                "cron", "s-0", new ScheduleState(T0, T0.plusSeconds(120), Optional.of(T0.plusSeconds(60))));
        store = reopen(store);
        assertThat(store.scheduleState("cron", "s-0"))
                .contains(new ScheduleState(T0, T0.plusSeconds(120), Optional.of(T0.plusSeconds(60))));
        assertThat(store.scheduleState("cron", "s-1")).contains(new ScheduleState(T0, T0, Optional.of(T0)));
        assertThat(store.scheduleState("other", "s-0")).isEmpty();
    }

    @Test
    void aRetryChainIsItsFirstExecutionAndEachRetryOfItInOrder() {
        Execution first = create("a", T0);
        create("a", T0); // a/2, not part of the chain
        Event queued = Event.of("queued", null, T0, "retry");
        Execution one = store.create(retry("a", first.number(), T0.plusSeconds(30)), queued)
                .execution();
        Execution two = store.create(retry("a", first.number(), T0.plusSeconds(90)), queued)
                .execution();
        create("b", T0); // b/1, another job's number 1
        assertThat(one.retryOf()).hasValue(first.number());
        assertThat(one.notBefore()).contains(T0.plusSeconds(30));
        assertThat(store.retryChain("a", first.number()))
                .extracting(Execution::number)
                .containsExactly(1L, one.number(), two.number());
        assertThat(store.retryChain("a", 2)).extracting(Execution::number).containsExactly(2L);
        assertThat(store.retryChain("a", 99)).isEmpty();
    }

    @Test
    void aSkippedExecutionIsRecordedFinishedWithItsTwoEvents() {
        Store.Created created = store.skipped(
                scheduled("cron", "s-0", T0),
                Event.of("queued", null, T0, "schedule"),
                Event.of("skipped", "at its limit", T0.plusMillis(1), "overseer"));
        Execution e = created.execution();
        assertThat(created.existing()).isFalse();
        assertThat(e.status()).isEqualTo("skipped");
        assertThat(e.state()).isEqualTo(ExecutionState.CANCELLED);
        assertThat(e.finishedAt()).contains(T0.plusMillis(1));
        assertThat(e.secretsJson()).isEqualTo("{}");
        assertThat(store.events("cron", e.number()))
                .extracting(Event::name, ev -> ev.cause().orElse(""))
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("queued", ""),
                        org.assertj.core.groups.Tuple.tuple("skipped", "at its limit"));
        assertThat(store.unfinished()).isEmpty();
        // The fire is recorded: a second attempt at it finds the skipped one.
        Store.Created again = store.create(scheduled("cron", "s-0", T0), Event.of("queued", null, T0, "schedule"));
        assertThat(again.existing()).isTrue();
        assertThat(again.execution().number()).isEqualTo(e.number());
    }

    @Test
    void aFireIsRecordedOncePerJobScheduleAndMoment() {
        Event queued = Event.of("queued", null, T0, "schedule");
        Store.Created first = store.create(scheduled("cron", "s-0", T0), queued);
        Store.Created again = store.create(scheduled("cron", "s-0", T0), queued);
        Store.Created nextFire = store.create(scheduled("cron", "s-0", T0.plusSeconds(60)), queued);
        Store.Created otherSchedule = store.create(scheduled("cron", "s-1", T0), queued);
        Store.Created otherJob = store.create(scheduled("cron2", "s-0", T0), queued);
        assertThat(first.existing()).isFalse();
        assertThat(again.existing()).isTrue();
        assertThat(again.execution().number()).isEqualTo(first.execution().number());
        assertThat(List.of(nextFire.existing(), otherSchedule.existing(), otherJob.existing()))
                .containsOnly(false);
        assertThat(store.events("cron", first.execution().number())).hasSize(1);
        assertThat(store.createAll(List.of(new Store.Insert(scheduled("cron", "s-0", T0), queued, Optional.empty()))))
                .singleElement()
                .isInstanceOfSatisfying(
                        Store.Inserted.Done.class,
                        d -> assertThat(d.created().existing()).isTrue());
    }

    /**
     * Two stores on one database (two servers on one file) create the same fires and the same
     * idempotency keys at once: each waits for the other's transaction, and each fire and each
     * key is recorded exactly once; every other attempt gets that execution back.
     */
    @Test
    void concurrentCreatesThroughTwoStoresRecordEachFireAndKeyOnce() throws Exception {
        int fires = 25;
        int perStore = 4;
        try (Store second = another();
                ExecutorService pool = Executors.newFixedThreadPool(2 * perStore)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Store.Created>>> results = new ArrayList<>();
            for (int t = 0; t < 2 * perStore; t++) {
                Store mine = t % 2 == 0 ? store : second;
                results.add(pool.submit(() -> {
                    go.await();
                    List<Store.Created> made = new ArrayList<>();
                    for (int i = 0; i < fires; i++) {
                        Instant fire = T0.plusSeconds(60L * i);
                        made.add(mine.create(scheduled("cron", "s-0", fire), Event.of("queued", null, T0, "schedule")));
                        made.add(mine.create(
                                newExecution("keyed", T0, Optional.of("key-" + i)),
                                Event.of("queued", null, T0, "api")));
                    }
                    return made;
                }));
            }
            go.countDown();
            // Per fire and per key: the numbers handed out, and how many creates were not repeats.
            java.util.Map<String, java.util.Set<Long>> numbers = new java.util.HashMap<>();
            java.util.Map<String, Integer> fresh = new java.util.HashMap<>();
            for (var f : results) {
                List<Store.Created> made = f.get(60, TimeUnit.SECONDS);
                for (int j = 0; j < made.size(); j++) {
                    String key = (j % 2 == 0 ? "fire-" : "key-") + j / 2;
                    numbers.computeIfAbsent(key, k -> new java.util.HashSet<>())
                            .add(made.get(j).execution().number());
                    fresh.merge(key, made.get(j).existing() ? 0 : 1, Integer::sum);
                }
            }
            assertThat(numbers)
                    .hasSize(2 * fires)
                    .allSatisfy((key, n) -> assertThat(n).as(key).hasSize(1));
            assertThat(fresh).allSatisfy((key, n) -> assertThat(n).as(key).isEqualTo(1));
            for (String job : List.of("cron", "keyed")) {
                assertThat(second.executions(job, new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 500)))
                        .hasSize(fires)
                        .allSatisfy(
                                e -> assertThat(store.events(job, e.number())).hasSize(1));
            }
        }
    }

    @Test
    void aBatchIsStoredTogetherAndAnInsertThatFailsIsRolledBackAlone() {
        NewExecution good = newExecution("batch", T0, Optional.empty());
        NewExecution bad = new NewExecution(
                "batch",
                "api",
                "c0ffee",
                T0,
                "{}",
                "{}",
                0,
                Optional.empty(),
                UUID.randomUUID().toString(),
                Optional.empty(),
                NewExecution.Origin.NONE,
                n -> {
                    throw new IllegalStateException("cannot render " + n);
                });
        Event queued = Event.of("queued", null, T0, "api");
        List<Store.Inserted> results = store.createAll(List.of(
                new Store.Insert(good, queued, Optional.empty()),
                new Store.Insert(bad, queued, Optional.empty()),
                new Store.Insert(good, queued, Optional.of(Event.of("skipped", "busy", T0, "overseer")))));
        assertThat(results.get(0)).isInstanceOf(Store.Inserted.Done.class);
        assertThat(results.get(1))
                .isInstanceOfSatisfying(
                        Store.Inserted.Failed.class,
                        f -> assertThat(f.error().getMessage()).isEqualTo("cannot render 2"));
        Execution skipped = ((Store.Inserted.Done) results.get(2)).created().execution();
        // The failed insert took number 2 and gave it back with its rollback.
        assertThat(skipped.number()).isEqualTo(2);
        assertThat(skipped.status()).isEqualTo("skipped");
        assertThat(skipped.state()).isEqualTo(ExecutionState.CANCELLED);
        assertThat(store.events("batch", 2)).extracting(Event::name).containsExactly("queued", "skipped");
        assertThat(store.unfinished()).extracting(Execution::number).containsExactly(1L);
    }

    @Test
    void retentionNeverTakesAnExecutionWithAPendingDeliveryNorTheLatestOfAJob() {
        Instant old = T0.minus(Duration.ofDays(60));
        for (String job : List.of("hooked", "plain")) {
            for (int i = 0; i < 2; i++) {
                Execution e = create(job, old);
                store.starting(job, e.number());
                store.started(job, e.number(), 1, Event.of("start", null, old, "overseer"));
                store.finished(
                        job,
                        e.number(),
                        ExecutionState.RUNNING,
                        OptionalInt.of(0),
                        Event.of("complete", null, old, "overseer"));
            }
        }
        Instant keepAfter = T0.minus(Duration.ofDays(30));
        Instant youngest = T0.minus(Duration.ofDays(1));
        // plain/1 may go; plain/2 is the latest; hooked/1 still has deliveries to send.
        assertThat(store.prunable(keepAfter, 1000, youngest, 100)).containsExactly(new Store.Prunable("plain", 1));
        for (Delivery d : store.deliveries("hooked", 1)) {
            attempted(
                    d.id(),
                    new Delivery.Attempt(
                            Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), T0));
        }
        assertThat(store.prunable(keepAfter, 1000, youngest, 100))
                .containsExactlyInAnyOrder(new Store.Prunable("plain", 1), new Store.Prunable("hooked", 1));
        assertThat(store.remove(store.prunable(keepAfter, 1000, youngest, 100), keepAfter, 1000, youngest))
                .hasSize(2);
        assertThat(store.execution("plain", 1)).isEmpty();
        assertThat(store.events("hooked", 1)).isEmpty();
        assertThat(store.deliveries("hooked", 1)).isEmpty();
        assertThat(store.execution("hooked", 2)).isPresent();
    }

    @Test
    void retentionChecksAgainWhenItRemovesSoADeliverySentAgainMeanwhileKeepsItsExecution() {
        twoOldHookedExecutionsTheFirstWithFailedDeliveries();
        Instant keepAfter = T0.minus(Duration.ofDays(30));
        Instant youngest = T0.minus(Duration.ofDays(1));
        List<Store.Prunable> listed = store.prunable(keepAfter, 1000, youngest, 100);
        assertThat(listed).containsExactly(new Store.Prunable("hooked", 1));
        // An admin sends a delivery again between the listing and the removal.
        assertThat(store.redeliver("A-hooked-1-queued", T0, T0.plusSeconds(60))).isTrue();
        assertThat(store.remove(listed, keepAfter, 1000, youngest)).isEmpty();
        assertThat(store.execution("hooked", 1)).isPresent();
        assertThat(store.delivery("A-hooked-1-queued").orElseThrow().state()).isEqualTo(Delivery.State.PENDING);
    }

    /** hooked/1 and hooked/2, finished 60 days before T0; every delivery of hooked/1 failed. */
    void twoOldHookedExecutionsTheFirstWithFailedDeliveries() {
        Instant old = T0.minus(Duration.ofDays(60));
        for (int i = 0; i < 2; i++) {
            Execution e = create("hooked", old);
            store.starting("hooked", e.number());
            store.started("hooked", e.number(), 1, Event.of("start", null, old, "overseer"));
            store.finished(
                    "hooked",
                    e.number(),
                    ExecutionState.RUNNING,
                    OptionalInt.of(0),
                    Event.of("complete", null, old, "overseer"));
        }
        for (Delivery d : store.deliveries("hooked", 1)) {
            attempted(
                    d.id(),
                    new Delivery.Attempt(
                            Delivery.State.FAILED, OptionalInt.of(410), Optional.of("gone"), Optional.empty(), T0));
        }
    }
}
