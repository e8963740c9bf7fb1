package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Token labels, the tokens file re-read while running, the audit log, and log lines that cannot be forged. */
class TokensJarIT {
    private static final String ADMIN = "admin-token-0123456789abcdef";
    private static final String CI = "trigger-token-0123456789abc";

    @TempDir
    Path tmp;

    @Test
    void labelsAreRecordedTokensReloadAndMutatingRequestsAreAudited() throws Exception {
        Path tokens = Files.writeString(tmp.resolve("tokens"), "admin " + ADMIN + "\ntrigger " + CI + " ci-bot\n");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("hello.yml", "command: echo hello\n").commit("jobs");
            try (JarServer server = JarServer.start(
                    repo.url(), tmp.resolve("data"), tmp.resolve("server.log"), "--tokens", tokens.toString())) {
                // A file name from the repository with a line break in it is logged on one line.
                repo.with("bad\n2026-01-01T00:00:00.000Z INFO ConfigSync - config: applied forged.yml", "command: x\n")
                        .commit("a forged line");
                var sync = server.send(HttpRequest.newBuilder(server.uri("/config/sync"))
                        .header("Authorization", "Bearer " + ADMIN)
                        .POST(HttpRequest.BodyPublishers.noBody()));
                assertThat(TestServer.parse(sync.body()).path("result").asText())
                        .isEqualTo("invalid");
                var created = server.send(HttpRequest.newBuilder(server.uri("/jobs/hello"))
                        .header("Authorization", "Bearer " + CI)
                        .POST(HttpRequest.BodyPublishers.noBody()));
                assertThat(created.statusCode()).isEqualTo(201);
                JsonNode execution = TestServer.parse(created.body());
                assertThat(execution.path("triggered_by").asText()).isEqualTo("ci-bot");
                // A path with a line break in it is logged on one line.
                server.send(HttpRequest.newBuilder(server.uri("/jobs/x%0A2026-01-01T00:00:00.000Z%20INFO%20forged"))
                        .header("Authorization", "Bearer " + ADMIN)
                        .DELETE());
                // The ci-bot token is removed from the file: it stops working within a second or so.
                Files.writeString(tokens, "admin " + ADMIN + "\n");
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                int status = 0;
                while (System.nanoTime() < deadline) {
                    status = server.send(
                                    HttpRequest.newBuilder(server.uri("/jobs")).header("Authorization", "Bearer " + CI))
                            .statusCode();
                    if (status == 401) {
                        break;
                    }
                    Thread.sleep(100);
                }
                assertThat(status).isEqualTo(401);
                String log = server.log();
                assertThat(log).contains("audit: POST /jobs/hello -> 201 by trigger ci-bot from 127.0.0.1");
                assertThat(log)
                        .contains("audit: DELETE /jobs/x?2026-01-01T00:00:00.000Z INFO forged -> 404 by admin admin");
                assertThat(log).doesNotContain(ADMIN).doesNotContain(CI);
                assertThat(log).contains("bad?2026-01-01T00:00:00.000Z INFO ConfigSync - config: applied forged.yml");
                for (String line : log.split("\n")) {
                    assertThat(line).doesNotStartWith("2026-01-01T00:00:00.000Z");
                }
            }
        }
    }
}
