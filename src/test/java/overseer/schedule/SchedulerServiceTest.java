package overseer.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.service.Supervisor;
import overseer.store.StoreException;
import overseer.testing.LogLines;
import overseer.testing.MutableClock;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** The scheduler as a supervised service: a failing store round is retried, reported, and blocks nobody. */
class SchedulerServiceTest {
    static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty().withFaults();

    private static final String BEAT = "description: no command\nschedule:\n  - {frequency: 1}\n";

    @Test
    void oneFailedReadOfANewScheduleIsTriedAgainWithinTheBackoffAndLoggedOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("a.yml", "command: \"true\"\n").commit("no schedule yet");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            fixture.faults().failCall("scheduleState", 1);
            repo.with("beat.yml", BEAT).commit("a schedule");
            server.post("/config/sync", "");
            // The list that failed to load is taken in a later round: the new schedule fires.
            server.await("/jobs/beat/1", e -> e.path("trigger").asText().equals("schedule"));
            assertThat(fixture.faults().failures("scheduleState")).isEqualTo(1);
            assertThat(log.errors("scheduleState")).hasSize(1);
            assertThat(log.containing("scheduler: recovered")).hasSize(1);
        }
    }

    @Test
    void readyNamesTheSchedulerWhileItFailsPastTheLimitAndClearsWhenItRecovers() throws Exception {
        CountDownLatch seen = new CountDownLatch(1);
        AtomicInteger thrown = new AtomicInteger();
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("a.yml", "command: \"true\"\n").commit("no schedule yet");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            fixture.faults().failCalls("scheduleState", 1, 5, () -> {
                // The fifth failure waits until the test has seen /ready at 503.
                if (thrown.incrementAndGet() == 5) {
                    try {
                        seen.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return new StoreException("injected failure of scheduleState", null);
            });
            repo.with("beat.yml", BEAT).commit("a schedule");
            server.post("/config/sync", "");
            String detail = awaitUnready(server);
            assertThat(detail).contains("scheduler").doesNotContain("injected");
            seen.countDown();
            server.await("/jobs/beat/1", e -> e.path("trigger").asText().equals("schedule"));
            assertThat(server.awaitReady()).isEqualTo(200);
            assertThat(server.get("/metrics").body())
                    .contains("overseer_service_failures_total{service=\"scheduler\"} 5.0");
            assertThat(log.errors("scheduleState")).hasSize(1);
        }
    }

    private static String awaitUnready(TestServer server) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            var response = server.get("/ready");
            if (response.statusCode() == 503) {
                return TestServer.parse(response.body()).path("detail").asText();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("/ready never turned 503");
    }

    @Test
    void theApiAnswersForSchedulesWhileAStoreWriteOfTheSchedulerHangs() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch answered = new CountDownLatch(1);
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: \"true\"\n").commit("no schedule yet");
        TestServer server = fixture.start(settings -> settings.services(QUICK));
        fixture.faults().failCalls("saveScheduleState", 1, 1, () -> {
            inside.countDown();
            try {
                answered.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new StoreException("injected failure of saveScheduleState", null);
        });
        repo.with("beat.yml", BEAT).commit("a schedule");
        Thread sync = Thread.ofVirtual().start(() -> {
            try {
                server.post("/config/sync", "");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(inside.await(20, TimeUnit.SECONDS)).isTrue();
        // The scheduler's round is inside a store write; the API does not wait for it.
        var jobs = server.send(HttpRequest.newBuilder(server.uri("/jobs")).timeout(Duration.ofSeconds(5)));
        assertThat(jobs.statusCode()).isEqualTo(200);
        answered.countDown();
        sync.join();
        server.await("/jobs/beat/1", e -> e.path("trigger").asText().equals("schedule"));
    }

    @Test
    void anEverySecondCronFiresOnWholeSecondsHoweverLateTheRoundsRun() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
        TestRepo repo = fixture.repo();
        repo.with("sec.yml", "description: no command\nschedule:\n  - {frequency: \"* * * * * *\"}\n")
                .commit("jobs");
        TestServer server = fixture.start(settings -> settings.clock(clock));
        // Each round runs 7 ms after the previous fire was due.
        for (int i = 1; i <= 5; i++) {
            clock.set(Instant.parse("2026-11-25T10:00:00Z").plusMillis(i * 1000L + 7));
            server.overseer().scheduler().tick();
        }
        List<String> fires = new ArrayList<>();
        server.json("/jobs/sec/executions?trigger=schedule&limit=100")
                .forEach(e -> fires.addFirst(e.path("scheduled_at").asText()));
        assertThat(fires)
                .containsExactly(
                        "2026-11-25T10:00:01.000Z",
                        "2026-11-25T10:00:02.000Z",
                        "2026-11-25T10:00:03.000Z",
                        "2026-11-25T10:00:04.000Z",
                        "2026-11-25T10:00:05.000Z");
    }
}
