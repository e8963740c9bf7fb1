package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;

/** The quick start as a user runs it: the packaged jar serving the example repository. */
class ServeJarIT {
    @TempDir
    Path tmp;

    @Test
    void packagedJarServesTheExampleRepositoryAndStopsOnSigterm() throws Exception {
        try (JarServer server =
                JarServer.start("example-config-repo", tmp.resolve("data"), tmp.resolve("server.log"))) {
            assertThat(server.json("/jobs"))
                    .extracting(j -> j.get("name").asText())
                    .containsExactly("backup", "deploy", "heartbeat", "nightly");
            // The README's example: a form-encoded trigger that waits for the end.
            var response = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/deploy?wait=20"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("service=web&dry_run=true")));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
            assertThat(server.json("/jobs/deploy/1").get("status").asText()).isEqualTo("complete");
            assertThat(server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/deploy/1/output")))
                            .body())
                    .isEqualTo("deploying web to staging (dry run: yes)\n");
            assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
            assertThat(server.log()).contains("overseer: shutting down");
        }
    }
}
