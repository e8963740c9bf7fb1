package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.job.JobParser;
import overseer.template.Renderer;

/** The poller keeps polling whatever a sync throws. */
class PollerTest {
    @TempDir
    Path tmp;

    @Test
    void anUnexpectedFailureDuringASyncDoesNotStopThePolling() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("jobs"));
        Files.writeString(dir.resolve("one.yml"), "command: echo one\n");
        var settings = new ConfigSync.Settings(
                Source.parse(dir.toString()),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
        try (ConfigSync sync = new ConfigSync(
                settings,
                tmp.resolve("data"),
                new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper()))),
                Clock.systemUTC())) {
            sync.syncNow();
            AtomicInteger applied = new AtomicInteger();
            // Whatever runs when a snapshot is applied (the engine's clean-up) may fail once.
            sync.onApplied(s -> {
                if (applied.incrementAndGet() == 1) {
                    throw new IllegalStateException("a failure nobody expected");
                }
            });
            sync.startPolling(Duration.ofMillis(50));
            Files.writeString(dir.resolve("two.yml"), "command: echo two\n");
            awaitJobs(sync, 2);
            Files.writeString(dir.resolve("three.yml"), "command: echo three\n");
            awaitJobs(sync, 3);
            assertThat(applied).hasValue(2);
        }
    }

    private static void awaitJobs(ConfigSync sync, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sync.active().map(s -> s.jobs().size()).orElse(0) != count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(sync.active().orElseThrow().jobs()).hasSize(count);
    }
}
