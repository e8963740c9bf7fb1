package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.Receiver;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Webhooks and the event helper in the packaged jar, with a real server environment and a real SIGKILL. */
class WebhookJarIT {
    private static final String SECRET = "whsec_c2VjcmV0LWluLXRoZS1zZXJ2ZXJzLWVudmlyb25tZW50";

    @TempDir
    Path tmp;

    @Test
    void deliveriesPendingWhenTheServerIsKilledAreSentAfterTheRestart() throws Exception {
        try (Receiver receiver = Receiver.down();
                TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("overseer.yml", """
                            hooks:
                              - url: %s
                                events: ["*"]
                                secret: ${HOOK_SECRET}
                            """.formatted(receiver.url("/hook")))
                    .with("envdump.yml", "command: env; event dumped\n")
                    .commit("jobs");
            Map<String, String> env = Map.of("HOOK_SECRET", SECRET);
            Path data = tmp.resolve("data");
            try (JarServer server =
                    JarServer.start(repo.url(), data, tmp.resolve("first.log"), env, "--webhook-retry", "300ms")) {
                server.post("/jobs/envdump");
                await(server, "/jobs/envdump/1", e -> !e.path("finished_at").isNull());
                String output = server.send(HttpRequest.newBuilder(server.uri("/jobs/envdump/1/stdout")))
                        .body();
                assertThat(output)
                        .contains("OVERSEER_EVENTS=")
                        .doesNotContain(SECRET)
                        .doesNotContain("HOOK_SECRET");
                await(server, "/deliveries?state=failing", list -> list.size() >= 1);
                server.process().destroyForcibly();
                assertThat(server.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(server.log()).doesNotContain(SECRET);
            }
            receiver.up();
            try (JarServer server =
                    JarServer.start(repo.url(), data, tmp.resolve("second.log"), env, "--webhook-retry", "300ms")) {
                List<Receiver.Request> got = receiver.await(r -> r.size() >= 4, Duration.ofSeconds(30));
                assertThat(got.stream()
                                .map(r -> json(r.body())
                                        .path("event")
                                        .path("name")
                                        .asText())
                                .distinct()
                                .toList())
                        .containsExactly("queued", "start", "dumped", "complete");
                assertThat(got.getFirst().header("webhook-signature")).startsWith("v1,");
                assertThat(server.log()).doesNotContain(SECRET);
            }
        }
    }

    private static JsonNode await(JarServer server, String path, java.util.function.Predicate<JsonNode> condition)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode now = server.json(path);
            if (condition.test(now)) {
                return now;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(path + " did not reach the expected state: " + server.json(path));
    }

    private static JsonNode json(String body) {
        try {
            return TestServer.parse(body);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
