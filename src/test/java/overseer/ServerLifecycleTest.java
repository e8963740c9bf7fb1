package overseer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.service.Supervisor;
import overseer.store.StoreException;
import overseer.testing.FaultyStore;
import overseer.testing.Processes;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** One server per data directory, and a start that fails stops whatever it had started. */
class ServerLifecycleTest {
    static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    /** Threads our services run on (the reaper and Undertow's are shared or pooled, and not ours to count). */
    private static final List<String> OURS = List.of(
            "scheduler", "retention", "webhook-", "config-poller", "event-pipe", "execution-", "checkouts", "XNIO-");

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void aSecondServerOnTheSameDataInTheSameJvmIsRefusedAndLeavesTheRunningJobRunning() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("sleeper.yml", "command: sleep 60\n").commit("a long job");
        Path data = fixture.data();
        TestServer first = fixture.server();
        first.trigger("sleeper", "{}");
        first.await("/jobs/sleeper/1", e -> e.path("status").asText().equals("start"));
        assertThatThrownBy(() -> TestServer.on(repo.url(), data).start())
                .hasMessageContaining(data.toAbsolutePath().toString())
                .hasMessageContaining("in use");
        var job = first.json("/jobs/sleeper/1");
        assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("start");
        first.put("/jobs/sleeper/1", "{\"event\": \"kill\"}");
        fixture.stop();
        // Once the first has stopped, the directory is free again.
        TestServer again = fixture.server();
        assertThat(again.json("/jobs/sleeper/1").path("finished_at").isNull()).isFalse();
    }

    @Test
    void aStartThatFailsAfterRecoveryLeavesNoThreadAndNoProcess() throws Exception {
        Path pid = fixture.tmp().resolve("later.pid");
        Set<String> before = ourThreads();
        TestRepo repo = fixture.repo();
        repo.with("blocker.yml", "command: sleep 60\n")
                .with("later.yml", "command: echo $$ > " + pid + " && exec sleep 60\n")
                .with("gone.yml", "command: \"true\"\n")
                .commit("jobs");
        Path data = fixture.data();
        TestServer first = fixture.start(settings ->
                settings.maxConcurrent(1).shutdownGrace(Duration.ZERO).killGrace(Duration.ofSeconds(1)));
        first.trigger("blocker", "{}");
        first.await("/jobs/blocker/1", e -> e.path("status").asText().equals("start"));
        first.trigger("later", "{}");
        first.trigger("gone", "{}");
        fixture.stop();
        // The next commit removes a job with a queued execution: the start cancels it, and
        // that store write fails, after recovery has started `later` again.
        repo.without("gone.yml").commit("gone goes");
        assertThatThrownBy(() -> TestServer.on(repo.url(), data)
                        .maxConcurrent(1)
                        .shutdownGrace(Duration.ZERO)
                        .killGrace(Duration.ofSeconds(1))
                        .store(s -> FaultyStore.wrap(s, f -> f.failCall("cancelled", 1)))
                        .services(QUICK)
                        .start())
                .isInstanceOf(StoreException.class);
        assertThat(ourThreads()).isSubsetOf(before);
        if (Files.exists(pid)) {
            long process = Long.parseLong(Files.readString(pid).strip());
            assertThat(Processes.alive(process)).as("pid " + process).isFalse();
        }
        // Nothing of it holds the data directory either.
        TestServer again = fixture.server();
        assertThat(again.get("/health").statusCode()).isEqualTo(200);
    }

    /** The names of our threads alive now, virtual ones included (from a JSON thread dump). */
    private Set<String> ourThreads() throws Exception {
        Path dump = fixture.tmp().resolve("threads-" + System.nanoTime() + ".json");
        java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                .dumpThreads(dump.toString(), com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
        Set<String> names = new java.util.TreeSet<>();
        for (var container :
                TestServer.parse(Files.readString(dump)).path("threadDump").path("threadContainers")) {
            for (var thread : container.path("threads")) {
                String name = thread.path("name").asText();
                if (OURS.stream().anyMatch(name::startsWith)) {
                    names.add(name);
                }
            }
        }
        return names;
    }
}
