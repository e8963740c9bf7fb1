package overseer.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import overseer.metrics.Metrics;

class SupervisorTest {
    private static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(10), Duration.ofMillis(40), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @Test
    void aServiceThatThrowsAnythingIsRetriedNamedByProblemsAndClearedOnRecovery() throws Exception {
        Metrics metrics = Metrics.none();
        Supervisor supervisor = new Supervisor(QUICK, metrics);
        AtomicInteger rounds = new AtomicInteger();
        BlockingQueue<Integer> done = new ArrayBlockingQueue<>(100);
        try (Supervisor.Handle h = supervisor.start(new BackgroundService() {
            @Override
            public String name() {
                return "flaky";
            }

            @Override
            public Duration runOnce() {
                int n = rounds.incrementAndGet();
                done.add(n);
                if (n <= 4) {
                    throw new AssertionError("an Error, not an Exception: round " + n);
                }
                return Duration.ofHours(1);
            }
        })) {
            for (int i = 1; i <= 4; i++) {
                assertThat(done.poll(10, TimeUnit.SECONDS)).isEqualTo(i);
            }
            // Round 4 failed; three in a row make it a problem until round 5 succeeds.
            assertThat(done.poll(10, TimeUnit.SECONDS)).isEqualTo(5);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (h.consecutiveFailures() != 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(supervisor.problems()).isEmpty();
            assertThat(metrics.scrape()).contains("overseer_service_failures_total{service=\"flaky\"} 4.0");
            h.wake();
            assertThat(done.poll(10, TimeUnit.SECONDS)).isEqualTo(6);
        }
    }

    @Test
    void problemsNameTheServiceAfterThreeFailuresInARow() throws Exception {
        Supervisor supervisor = new Supervisor(QUICK, Metrics.none());
        BlockingQueue<Integer> done = new ArrayBlockingQueue<>(1000);
        AtomicInteger rounds = new AtomicInteger();
        try (Supervisor.Handle h = supervisor.start(new BackgroundService() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public Duration runOnce() throws Exception {
                done.add(rounds.incrementAndGet());
                throw new java.io.IOException("secret detail that /ready must not show");
            }
        })) {
            for (int i = 1; i <= 3; i++) {
                assertThat(done.poll(10, TimeUnit.SECONDS)).isNotNull();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (h.consecutiveFailures() < 3 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(supervisor.problems())
                    .singleElement()
                    .asString()
                    .startsWith("broken is failing")
                    .doesNotContain("secret");
        }
        assertThat(supervisor.problems()).isEmpty();
    }
}
