package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Roles on the execution routes, and the per-execution token a job raises its events with. */
class ExecutionTokenTest {
    private static final String READ = "read-token-0123456789";
    private static final String TRIGGER = "trigger-token-0123456789";

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    private static HttpRequest.Builder put(TestServer server, String path, String token, String body) {
        return HttpRequest.newBuilder(server.uri(path))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body));
    }

    @Test
    void theExecutionTokenRaisesEventsOnItsOwnExecutionOnly() throws Exception {
        Path tokens =
                Files.writeString(fixture.tmp().resolve("tokens"), "read " + READ + "\ntrigger " + TRIGGER + "\n");
        TestRepo repo = fixture.repo();
        repo.with("wait.yml", "command: echo $OVERSEER_TOKEN; sleep 30\n").commit("jobs");
        TestServer server = fixture.start(settings -> settings.tokens(tokens));
        HttpRequest.Builder asReader = HttpRequest.newBuilder(server.uri("/jobs/wait"))
                .header("Authorization", "Bearer " + READ)
                .POST(HttpRequest.BodyPublishers.noBody());
        assertThat(server.send(asReader).statusCode()).isEqualTo(403);
        for (int i = 0; i < 2; i++) {
            HttpRequest.Builder asTrigger = HttpRequest.newBuilder(server.uri("/jobs/wait"))
                    .header("Authorization", "Bearer " + TRIGGER)
                    .POST(HttpRequest.BodyPublishers.noBody());
            assertThat(server.send(asTrigger).statusCode()).isEqualTo(201);
        }
        String token = "";
        for (int i = 0; i < 200 && token.isEmpty(); i++) {
            Thread.sleep(25);
            token = server.send(HttpRequest.newBuilder(server.uri("/jobs/wait/1/stdout"))
                            .header("Authorization", "Bearer " + READ))
                    .body()
                    .strip();
        }
        assertThat(token).hasSize(48);
        assertThat(server.send(put(server, "/jobs/wait/1", token, "{\"event\": \"step-one\"}"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(server.send(put(server, "/jobs/wait/2", token, "{\"event\": \"step-one\"}"))
                        .statusCode())
                .isEqualTo(401);
        assertThat(server.send(put(server, "/jobs/wait/1", READ, "{\"event\": \"kill\"}"))
                        .statusCode())
                .isEqualTo(403);
        for (int n = 1; n <= 2; n++) {
            assertThat(server.send(put(server, "/jobs/wait/" + n, TRIGGER, "{\"event\": \"kill\"}"))
                            .statusCode())
                    .isEqualTo(200);
        }
    }
}
