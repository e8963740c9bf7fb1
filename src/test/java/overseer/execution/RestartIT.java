package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.Processes;
import overseer.testing.TestRepo;

/** A server killed with SIGKILL loses nothing it acknowledged, and leaves no job process behind. */
class RestartIT {
    @TempDir
    Path tmp;

    @Test
    void aRunningExecutionIsLostAfterACrashAndItsProcessesKilled() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("long.yml", "command: echo partial; sleep 600 & echo $!; setsid sleep 600 & echo $!; wait\n")
                    .commit("jobs");
            Path data = tmp.resolve("data");
            Path log = tmp.resolve("server.log");
            long background;
            long escaped;
            try (JarServer first = JarServer.start(repo.url(), data, log)) {
                assertThat(first.post("/jobs/long").get("execution").asInt()).isEqualTo(1);
                String out = "";
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (out.split("\n").length < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    out = first.send(java.net.http.HttpRequest.newBuilder(first.uri("/jobs/long/1/stdout")))
                            .body();
                }
                String[] lines = out.split("\n");
                background = Long.parseLong(lines[1]);
                escaped = Long.parseLong(lines[2]);
                first.process().destroyForcibly().waitFor();
            }
            // The crashed server's watchdog kills them as soon as the server is gone (or the
            // restart does, when it finds them first).

            try (JarServer second =
                    JarServer.start(repo.url(), data, log, "--shutdown-grace", "1", "--kill-grace", "1")) {
                JsonNode lost = second.json("/jobs/long/1");
                assertThat(lost.get("status").asText()).isEqualTo("lost");
                assertThat(second.json("/jobs/long/1/lost").get("cause").asText())
                        .startsWith("the server stopped while it ran");
                assertThat(second.send(java.net.http.HttpRequest.newBuilder(second.uri("/jobs/long/1/stdout")))
                                .body())
                        .startsWith("partial\n");
                awaitGone(background);
                awaitGone(escaped);
                assertThat(second.post("/jobs/long").get("execution").asInt()).isEqualTo(2);
                assertThat(second.stop(Duration.ofSeconds(20))).isTrue();
            }
            assertThat(Files.readString(log)).contains("lost");
        }
    }

    private static void awaitGone(long pid) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Processes.alive(pid)) {
            assertThat(System.nanoTime()).as("process %d is gone", pid).isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
