package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.service.Supervisor;
import overseer.testing.FaultyStore;
import overseer.testing.LogLines;
import overseer.testing.MutableClock;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Retention as a supervised service: a failing store is retried with backoff, and a crash orphans no files. */
class RetentionServiceTest {
    static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    /** Three runs of job a, a month old when the returned server (with {@code faults}) starts. */
    private TestServer oldRunsThen(TestRepo repo, MutableClock clock, Consumer<FaultyStore> faults) throws Exception {
        repo.with("a.yml", "command: echo a\n").commit("jobs");
        TestServer first = fixture.start(settings -> settings.clock(clock).retention(Duration.ofDays(30), 1000));
        for (int i = 1; i <= 3; i++) {
            first.trigger("a", "{}");
            first.awaitFinished("a", i);
        }
        fixture.stop();
        clock.advance(Duration.ofDays(31));
        return TestServer.on(repo.url(), fixture.data())
                .clock(clock)
                .retention(Duration.ofDays(30), 1000)
                .store(s -> FaultyStore.wrap(s, faults))
                .services(QUICK)
                .start();
    }

    @Test
    void aFailingStoreIsTriedAgainWithBackoffNamedByReadyAndLoggedOnce() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-10-01T10:00:00Z"));
        CountDownLatch seen = new CountDownLatch(1);
        AtomicInteger thrown = new AtomicInteger();
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture();
                TestServer server = oldRunsThen(
                        repo,
                        clock,
                        f -> f.failCalls("prunable", 1, 5, () -> {
                            // The fifth failure waits until the test has seen /ready at 503.
                            if (thrown.incrementAndGet() == 5) {
                                try {
                                    seen.await(20, TimeUnit.SECONDS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                            return new StoreException("injected failure of prunable", null);
                        }))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            var ready = server.get("/ready");
            while (ready.statusCode() != 503 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                ready = server.get("/ready");
            }
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            assertThat(TestServer.parse(ready.body()).path("detail").asText())
                    .contains("retention")
                    .doesNotContain("injected");
            seen.countDown();
            // The sixth round works: the old runs but the latest go, and /ready clears.
            deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (server.get("/jobs/a/1").statusCode() != 404 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(server.get("/jobs/a/1").statusCode()).isEqualTo(404);
            assertThat(server.get("/jobs/a/3").statusCode()).isEqualTo(200);
            // The rows go inside the round; the supervisor clears the problem when it returns.
            assertThat(server.awaitReady()).isEqualTo(200);
            assertThat(log.errors("prunable")).hasSize(1);
            assertThat(server.get("/metrics").body())
                    .contains("overseer_service_failures_total{service=\"retention\"} 5.0");
        }
    }

    @Test
    void aCrashAfterTheRowsWentLeavesNoOutputFolderBehind() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-10-01T10:00:00Z"));
        Path out = fixture.tmp().resolve("data/executions/a");
        TestRepo repo = fixture.repo();
        try (TestServer server = oldRunsThen(
                repo,
                clock,
                f -> f.failAfterCall("remove", 1, () -> new StoreException("crash after the commit", null)))) {
            // The first round removed the rows and "crashed"; the next one deletes their folders.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while ((out.resolve("1").toFile().exists()
                            || out.resolve("2").toFile().exists())
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(out.resolve("1")).doesNotExist();
            assertThat(out.resolve("2")).doesNotExist();
            assertThat(out.resolve("3")).exists();
            assertThat(server.get("/jobs/a/1").statusCode()).isEqualTo(404);
        }
    }
}
