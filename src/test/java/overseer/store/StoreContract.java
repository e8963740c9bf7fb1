package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
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

    /** One delivery's attempt, recorded as the sender records its batches. */
    void attempted(String id, Delivery.Attempt attempt) {
        store.deliveriesAttempted(java.util.Map.of(id, attempt));
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
        List<Execution> first = store.recent(Optional.empty(), Optional.empty(), Optional.empty(), 2);
        assertThat(first).extracting(e -> e.job() + "/" + e.number()).containsExactly("c/1", "b/1");
        Execution last = first.getLast();
        assertThat(store.recent(
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(new Store.Cursor(last.createdAt().toEpochMilli(), last.job(), last.number())),
                        10))
                .extracting(e -> e.job() + "/" + e.number())
                .containsExactly("a/2", "a/1");
        assertThat(store.recent(Optional.of("fail"), Optional.empty(), Optional.empty(), 10))
                .extracting(e -> e.job() + "/" + e.number())
                .containsExactly("b/1");
        assertThat(store.recent(Optional.empty(), Optional.of("api"), Optional.empty(), 10))
                .hasSize(4);
        assertThat(store.recent(Optional.empty(), Optional.of("schedule"), Optional.empty(), 10))
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
        assertThat(store.dueDeliveries(now, java.util.Set.of(), java.util.Set.of(), 10))
                .extracting(Delivery::id)
                .containsExactlyInAnyOrder("A-hooked-1-queued", "A-hooked-2-queued", "B-hooked-1-done");
        assertThat(store.dueDeliveries(now, java.util.Set.of("A-hooked-2-queued"), java.util.Set.of(), 10))
                .extracting(Delivery::id)
                .doesNotContain("A-hooked-2-queued");
        // A hook that can take no more is left out, so that the limit goes to the others.
        assertThat(store.dueDeliveries(now, java.util.Set.of(), java.util.Set.of("A"), 1))
                .extracting(Delivery::id)
                .containsExactly("B-hooked-1-done");
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.PENDING,
                        OptionalInt.of(500),
                        Optional.of("HTTP 500"),
                        Optional.of(now.plusSeconds(30)),
                        now));
        // A retry waiting holds back the later events of its execution, not those of others.
        assertThat(store.dueDeliveries(now, java.util.Set.of(), java.util.Set.of(), 10))
                .extracting(Delivery::id)
                .containsExactlyInAnyOrder("A-hooked-2-queued", "B-hooked-1-done");
        assertThat(store.nextDeliveryDue()).contains(T0);
        assertThat(store.deliveries(Optional.of("failing"), 10))
                .extracting(Delivery::id)
                .containsExactly("A-hooked-1-queued");
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.DELIVERED, OptionalInt.of(200), Optional.empty(), Optional.empty(), now));
        assertThat(store.dueDeliveries(now, java.util.Set.of(), java.util.Set.of(), 10))
                .extracting(Delivery::id)
                .contains("A-hooked-1-done");
        Delivery sent = store.delivery("A-hooked-1-queued").orElseThrow();
        assertThat(sent.attempts()).isEqualTo(2);
        assertThat(sent.state()).isEqualTo(Delivery.State.DELIVERED);
        assertThat(sent.finishedAt()).contains(now);
        assertThat(store.redeliver("A-hooked-1-queued", now, now.plusSeconds(60)))
                .isFalse();
    }

    @Test
    void aFailedDeliveryCanBeSentAgainAndSurvivesARestart() throws Exception {
        create("hooked", T0);
        attempted(
                "A-hooked-1-queued",
                new Delivery.Attempt(
                        Delivery.State.FAILED, OptionalInt.of(410), Optional.of("gone"), Optional.empty(), T0));
        assertThat(store.dueDeliveries(T0.plusSeconds(1), java.util.Set.of(), java.util.Set.of(), 10))
                .isEmpty();
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
    void concurrentWritersAreEachCommittedAndOneThatFailsFailsAlone() throws Exception {
        int threads = 16;
        int each = 25;
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        if (thread == 0 && i == 10) {
                            // Its work throws inside whatever group it was committed with.
                            NewExecution e = newExecution("many", T0, Optional.empty());
                            try {
                                store.create(
                                        new NewExecution(
                                                e.job(),
                                                e.trigger(),
                                                e.commit(),
                                                e.createdAt(),
                                                e.paramsJson(),
                                                e.secretsJson(),
                                                e.priority(),
                                                e.scheduledAt(),
                                                e.runId(),
                                                e.idempotencyKey(),
                                                e.origin(),
                                                n -> {
                                                    throw new IllegalStateException("cannot render");
                                                }),
                                        Event.of("queued", null, T0, "api"));
                            } catch (IllegalStateException expected) {
                                failures.incrementAndGet();
                            }
                            continue;
                        }
                        create("many", T0.plusMillis(thread * 1000L + i));
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
        }
        assertThat(failures).hasValue(1);
        store = reopen(store);
        List<Execution> all = store.executions("many", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 500));
        assertThat(all).hasSize(threads * each - 1);
        assertThat(all).extracting(Execution::number).doesNotHaveDuplicates();
        assertThat(all)
                .allSatisfy(e -> assertThat(store.events(e.job(), e.number()))
                        .extracting(Event::name)
                        .containsExactly("queued"));
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
        store.remove(store.prunable(keepAfter, 1000, youngest, 100));
        assertThat(store.execution("plain", 1)).isEmpty();
        assertThat(store.events("hooked", 1)).isEmpty();
        assertThat(store.deliveries("hooked", 1)).isEmpty();
        assertThat(store.execution("hooked", 2)).isPresent();
    }
}
