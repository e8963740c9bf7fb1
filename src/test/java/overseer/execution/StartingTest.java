package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.config.CheckoutLease;
import overseer.process.Launcher;
import overseer.process.PosixSpawnLauncher;
import overseer.process.ProcessGroups;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.ExecutionState;
import overseer.store.NewExecution;
import overseer.store.SqliteStore;
import overseer.store.Store;
import overseer.testing.Processes;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * The STARTING state: recorded before the spawn, so a signal that comes before the process exists
 * is neither lost nor refused, and a crash between the spawn and the {@code start} event is noticed.
 */
class StartingTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    private static final LaunchSpec SLEEP = new LaunchSpec(
            List.of("/bin/sleep", "600"), Map.of(), null, null, "queue", List.of(), List.of(), null, null, null);

    private static Execution create(Store store, String job) {
        return store.create(
                        new NewExecution(
                                job,
                                "api",
                                "c0ffee",
                                Instant.now(),
                                "{}",
                                "{}",
                                0,
                                Optional.empty(),
                                UUID.randomUUID().toString(),
                                Optional.empty(),
                                NewExecution.Origin.NONE,
                                n -> new NewExecution.Prepared("sleep 600", "{}")),
                        Event.of("queued", null, Instant.now(), "api"))
                .execution();
    }

    private Unfinished unfinished(Execution e) {
        return new Unfinished(e, SLEEP, CheckoutLease.unmanaged("c0ffee", fixture.tmp()), "token");
    }

    private Launcher.Process spawn(Launcher launcher, Execution e) throws java.io.IOException {
        return launcher.start(new Launcher.Command(
                SLEEP.argv(), List.of(ProcessGroups.MARKER + "=" + e.runId(), "PATH=/usr/bin:/bin"), fixture.tmp()));
    }

    @Test
    void aKillWhileStartingCancelsTheSpawn() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"))) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Execution e = create(store, "job");
            Unfinished u = unfinished(e);
            assertThat(lifecycle.starting(u)).isEqualTo(Lifecycle.Start.STARTING);
            assertThat(lifecycle.signal(u, "kill", Optional.of("early"), "api")).isFalse();
            AtomicBoolean spawned = new AtomicBoolean();
            Lifecycle.Spawn result = lifecycle.spawn(u, () -> {
                spawned.set(true);
                return spawn(new PosixSpawnLauncher(), e);
            });
            assertThat(result).isInstanceOf(Lifecycle.Spawn.NotStarted.class);
            assertThat(spawned).isFalse();
            assertThat(store.events("job", 1)).extracting(Event::name).containsExactly("queued", "kill", "fail");
            assertThat(store.latestEvent("job", 1, "fail").orElseThrow().cause())
                    .contains("cancelled by 'kill' before it started");
            assertThat(store.execution("job", 1).orElseThrow().state()).isEqualTo(ExecutionState.DONE);
        }
    }

    @Test
    void theSpawnDoesNotHoldTheExecutionsLock() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"));
                var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Execution e = create(store, "job");
            Unfinished u = unfinished(e);
            lifecycle.starting(u);
            CountDownLatch spawning = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Lifecycle.Spawn> result = CompletableFuture.supplyAsync(
                    () -> lifecycle.spawn(u, () -> {
                        spawning.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException interrupted) {
                            throw new java.io.IOException("interrupted");
                        }
                        return spawn(new PosixSpawnLauncher(), e);
                    }),
                    threads);
            assertThat(spawning.await(10, TimeUnit.SECONDS)).isTrue();
            // While posix_spawn runs, a signal is taken (as pending) instead of waiting for it.
            CompletableFuture<Boolean> stop = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return lifecycle.signal(u, "kill", Optional.empty(), "api");
                        } catch (Refused refused) {
                            throw new IllegalStateException(refused);
                        }
                    },
                    threads);
            assertThat(stop.get(10, TimeUnit.SECONDS)).isFalse();
            release.countDown();
            Launcher.Process process = ((Lifecycle.Spawn.Running) result.get(10, TimeUnit.SECONDS)).process();
            // The pending kill reached the process as soon as it existed.
            assertThat(process.exit().get(10, TimeUnit.SECONDS).describe()).isEqualTo("killed by signal 9 (SIGKILL)");
            assertThat(store.events("job", 1)).extracting(Event::name).containsExactly("queued", "kill", "start");
        }
    }

    @Test
    void aStopWhileStartingReachesTheProcessAsSoonAsItExists() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"))) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Execution e = create(store, "job");
            Unfinished u = unfinished(e);
            lifecycle.starting(u);
            lifecycle.signal(u, "stop", Optional.empty(), "api");
            Lifecycle.Spawn result = lifecycle.spawn(u, () -> spawn(new PosixSpawnLauncher(), e));
            long pid = ((Lifecycle.Spawn.Running) result).process().pid();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (state(pid) != 'T' && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(state(pid)).isEqualTo('T');
            lifecycle.signal(u, "kill", Optional.empty(), "api");
            ((Lifecycle.Spawn.Running) result).process().exit().get();
            assertThat(Processes.alive(pid)).isFalse();
            assertThat(store.events("job", 1))
                    .extracting(Event::name)
                    .containsExactly("queued", "stop", "start", "kill");
        }
    }

    private static char state(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    @Test
    void aRestartFindsAnExecutionThatWasStartingLostAndKillsWhatItStarted() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("hold.yml", "command: sleep 600\n").commit("jobs");
        Path data = Files.createDirectories(fixture.data());
        Execution e;
        Launcher.Process leftover;
        // A server that crashed between posix_spawn and recording the start left this behind.
        try (Store store = overseer.testing.ServerStores.open(data)) {
            e = create(store, "hold");
            store.starting("hold", e.number());
            leftover = spawn(new PosixSpawnLauncher(), e);
        }
        assertThat(Processes.alive(leftover.pid())).isTrue();
        TestServer server = fixture.server();
        JsonNode lost = server.json("/jobs/hold/1");
        assertThat(lost.get("status").asText()).isEqualTo("lost");
        assertThat(lost.get("events")).extracting(ev -> ev.get("name").asText()).containsExactly("queued", "lost");
        assertThat(server.json("/jobs/hold/1/lost").get("cause").asText())
                .isEqualTo("the server stopped while it was starting; killed 1 leftover process(es)");
        leftover.exit().get();
        assertThat(Processes.alive(leftover.pid())).isFalse();
    }

    @Test
    void anExecutionThatNeverLeftTheQueueEndsCancelledWhenItFails() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"))) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Unfinished u = unfinished(create(store, "job"));
            lifecycle.finish(
                    u,
                    java.util.OptionalInt.empty(),
                    Event.of("fail", "overseer failed to run it: the disk is full", Instant.now(), "overseer"),
                    () -> true);
            Execution e = store.execution("job", 1).orElseThrow();
            assertThat(e.state()).isEqualTo(ExecutionState.CANCELLED);
            assertThat(e.status()).isEqualTo("fail");
        }
    }

    @Test
    void anExecutionTakesAtMostItsLimitOfCustomEvents() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"))) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC(), 3);
            Execution e = create(store, "job");
            Unfinished u = unfinished(e);
            for (int i = 0; i < 3; i++) {
                lifecycle.event(u, Event.of("step", null, java.time.Instant.now(), "job"));
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> lifecycle.event(u, Event.of("step", null, java.time.Instant.now(), "job")))
                    .isInstanceOfSatisfying(
                            Refused.class, r -> assertThat(r.reason()).isEqualTo(Refused.Reason.TOO_MANY_EVENTS))
                    .hasMessage("execution job/1 has recorded 3 events, the most it may");
            assertThat(store.events("job", 1)).hasSize(4);
        }
    }

    @Test
    void aKillAfterTheStartIsCommittedButBeforeTheRunHasTheProcessIsTakenAndSentOnce() throws Exception {
        var faults = new java.util.concurrent.atomic.AtomicReference<overseer.testing.FaultyStore>();
        try (Store store = overseer.testing.FaultyStore.wrap(
                        SqliteStore.open(fixture.tmp().resolve("db")), faults::set);
                var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Execution e = create(store, "job");
            Unfinished u = unfinished(e);
            lifecycle.starting(u);
            CountDownLatch committed = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            faults.get().holdAfterCall("started", 1, committed, release);
            CompletableFuture<Lifecycle.Spawn> result = CompletableFuture.supplyAsync(
                    () -> lifecycle.spawn(u, () -> spawn(new PosixSpawnLauncher(), e)), threads);
            assertThat(committed.await(10, TimeUnit.SECONDS)).isTrue();
            // The row says running; the run has not moved on from STARTING yet. The kill was
            // refused here as if the execution had finished, and the job ran on.
            assertThat(lifecycle.signal(u, "kill", Optional.of("now"), "api")).isFalse();
            release.countDown();
            Launcher.Process process = ((Lifecycle.Spawn.Running) result.get(10, TimeUnit.SECONDS)).process();
            assertThat(process.exit().get(10, TimeUnit.SECONDS).describe()).isEqualTo("killed by signal 9 (SIGKILL)");
            assertThat(store.events("job", 1)).extracting(Event::name).containsExactly("queued", "start", "kill");
        }
    }

    @Test
    void aKillWhileStartingIsKeptAndAppliedOnceAcrossARestart() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("hold.yml", "command: sleep 600\n").commit("jobs");
        Path data = Files.createDirectories(fixture.data());
        // Acknowledged while starting; the server stops before the spawn.
        try (Store store = overseer.testing.ServerStores.open(data)) {
            Lifecycle lifecycle = new Lifecycle(store, new ProcessGroups(), Clock.systemUTC());
            Unfinished u = unfinished(create(store, "hold"));
            lifecycle.starting(u);
            lifecycle.signal(u, "kill", Optional.of("early"), "api");
        }
        TestServer server = fixture.server();
        JsonNode ended = server.json("/jobs/hold/1");
        assertThat(ended.get("status").asText()).isEqualTo("fail");
        assertThat(ended.get("events"))
                .extracting(ev -> ev.get("name").asText())
                .containsExactly("queued", "kill", "fail");
        assertThat(server.json("/jobs/hold/1/fail").get("cause").asText())
                .isEqualTo("cancelled by 'kill' before it started");
    }

    /**
     * A cancel ends a queued execution (releasing its claim) while its run found its start
     * unrecordable and is about to put it back in the queue: the claim stays released, and no
     * slot or per-job count is taken twice (found by review: it was requeued and started again).
     */
    @Test
    void aClaimReleasedWhileItsStartCouldNotBeRecordedIsNotPutBackInTheQueue() throws Exception {
        try (Store store = SqliteStore.open(fixture.tmp().resolve("db"))) {
            Admission admission = new Admission(1, 10);
            Admission.Claim first = admission.reserve("job");
            admission.admit(first, unfinished(create(store, "job")));
            assertThat(admission.takeClaimed(first, false)).isTrue();

            admission.release(first);
            assertThat(admission.requeue(first)).isFalse();
            assertThat(admission.queued()).isEmpty();
            assertThat(admission.running()).isEmpty();

            // The slot and the job's one place are free for the next.
            Admission.Claim next = admission.reserve("job");
            admission.admit(next, unfinished(create(store, "job")));
            assertThat(admission.takeClaimed(next, false)).isTrue();
        }
    }
}
