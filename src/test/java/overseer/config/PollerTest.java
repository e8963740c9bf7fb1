package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import overseer.job.JobParser;
import overseer.metrics.Metrics;
import overseer.service.Supervisor;
import overseer.template.Renderer;

/** The poller is a supervised service: whatever a sync throws, it is logged once and retried. */
class PollerTest {
    private static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @TempDir
    Path tmp;

    @Test
    void anythingASyncThrowsIsRetriedWithinTheBackoffAndLoggedOnceInOneLine() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("jobs"));
        Files.writeString(dir.resolve("one.yml"), "command: echo one\n");
        var settings = new ConfigSync.Settings(
                Source.parse(dir.toString()),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        Supervisor supervisor = new Supervisor(QUICK, Metrics.none());
        try (ConfigSync sync = new ConfigSync(
                settings,
                tmp.resolve("data"),
                new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper()))),
                Clock.systemUTC())) {
            sync.syncNow();
            AtomicInteger syncs = new AtomicInteger();
            // Whatever runs after a sync (the engine's clean-up, a listener) may fail once, even
            // with an Error, which a catch of RuntimeException would let kill the poller.
            sync.onSynced(s -> {
                if (syncs.incrementAndGet() == 1) {
                    try {
                        Files.writeString(dir.resolve("three.yml"), "command: echo three\n");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    throw new LinkageError("a failure nobody expected");
                }
            });
            // A poll interval far longer than the test, and no request after the failure: only
            // the supervisor's retry can pick up three.yml, written just before the round threw.
            sync.startPolling(supervisor, Duration.ofMinutes(10));
            Files.writeString(dir.resolve("two.yml"), "command: echo two\n");
            sync.requestSync();
            awaitJobs(sync, 3);
            assertThat(syncs).hasValueGreaterThanOrEqualTo(2);
        } finally {
            root.detachAppender(logged);
        }
        assertThat(logged.list.stream().filter(e -> e.getFormattedMessage().contains("a failure nobody expected")))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getFormattedMessage()).isEqualTo("config-poller: a failure nobody expected");
                    assertThat(e.getThrowableProxy()).isNull();
                });
    }

    private static void awaitJobs(ConfigSync sync, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sync.active().map(s -> s.jobs().size()).orElse(0) != count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(sync.active().orElseThrow().jobs()).hasSize(count);
    }
}
