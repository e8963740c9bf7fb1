package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** On shutdown, running executions get a grace period, then are terminated with the reason recorded. */
class ShutdownTest {
    @TempDir
    Path tmp;

    @Test
    void executionsFinishWithinTheGraceOrAreTerminatedWithACause() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("short.yml", "command: sleep 0.5; echo finished\n")
                    .with("long.yml", "command: sleep 600\n")
                    .with("queued.yml", "command: echo later\n")
                    .commit("jobs");
            Path data = tmp.resolve("data");
            TestServer server = TestServer.on(repo.url(), data)
                    .maxConcurrent(2)
                    .shutdownGrace(Duration.ofSeconds(2))
                    .killGrace(Duration.ofMillis(500))
                    .start();
            server.trigger("short", "{}");
            server.trigger("long", "{}");
            server.trigger("queued", "{}");
            server.await("/jobs/long/1", e -> e.get("status").asText().equals("start"));
            server.close();

            try (TestServer again = TestServer.on(repo.url(), data).start()) {
                assertThat(again.json("/jobs/short/1").get("status").asText()).isEqualTo("complete");
                assertThat(again.json("/jobs/long/1").get("status").asText()).isEqualTo("fail");
                assertThat(again.json("/jobs/long/1/terminate").get("cause").asText())
                        .isEqualTo("the server is shutting down");
                assertThat(again.json("/jobs/long/1/fail").get("cause").asText())
                        .isEqualTo("killed by signal 15 (SIGTERM)");
                // The queued execution waited in the store and runs after the restart.
                assertThat(again.awaitFinished("queued", 1).get("status").asText())
                        .isEqualTo("complete");
            }
        }
    }
}
