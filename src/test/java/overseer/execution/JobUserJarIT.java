package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/** {@code --job-user}: a server running as root runs its jobs as another account, away from its data. */
class JobUserJarIT {
    @TempDir
    Path tmp;

    @Test
    void jobsRunAsTheJobUserCanRaiseEventsAndCannotReadTheDatabaseOrOtherOutput() throws Exception {
        assumeTrue(System.getProperty("user.name").equals("root"), "needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv");
        // The job user must be able to pass through the directories above the data directory.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        Path data = tmp.resolve("data");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("probe.yml", """
                            command: |
                              id -u
                              cat %s/overseer.db > /dev/null 2>&1 && echo db-readable || echo db-denied
                              ls %s/executions > /dev/null 2>&1 && echo output-readable || echo output-denied
                              touch %s/lib/planted 2>/dev/null && echo lib-writable || echo lib-denied
                              echo "home=$HOME user=$USER"
                              event probed "as $(id -un)"
                            """.formatted(data, data, data)).commit("jobs");
            try (JarServer server =
                    JarServer.start(repo.url(), data, tmp.resolve("server.log"), "--job-user", "nobody")) {
                server.post("/jobs/probe");
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                JsonNode e = server.json("/jobs/probe/1");
                while (e.path("finished_at").isNull() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    e = server.json("/jobs/probe/1");
                }
                String out = server.send(HttpRequest.newBuilder(server.uri("/jobs/probe/1/output")))
                        .body();
                assertThat(e.path("status").asText()).as(out).isEqualTo("complete");
                assertThat(out)
                        .startsWith("65534\n")
                        .contains("db-denied\n", "output-denied\n", "lib-denied\n", "user=nobody");
                assertThat(e.path("events").get(2).path("name").asText()).isEqualTo("probed");
                assertThat(e.path("events").get(2).path("cause").asText()).isEqualTo("as nobody");
            }
        }
    }
}
