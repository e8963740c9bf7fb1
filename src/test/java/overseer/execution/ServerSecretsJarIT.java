package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/** {@code env: {X: ${NAME}}} read from the real server process's environment, masked in the output. */
class ServerSecretsJarIT {
    @TempDir
    Path tmp;

    @Test
    void envReferencesAreReadAtLaunchMaskedAndAMissingOneIsAWarningAndAClearFailure() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with(
                            "db.yml",
                            "command: echo \"pw=$PGPASSWORD user=$PGUSER\"\nenv:\n  PGPASSWORD: ${DB_PASSWORD}\n  PGUSER: app\n")
                    .with("broken.yml", "command: \"true\"\nenv:\n  TOKEN: ${NOT_SET_ANYWHERE_4711}\n")
                    .commit("jobs");
            try (JarServer server = JarServer.start(
                    repo.url(),
                    tmp.resolve("data"),
                    tmp.resolve("server.log"),
                    Map.of("DB_PASSWORD", "s3cret-value"))) {
                JsonNode warnings = server.json("/config").path("warnings");
                assertThat(warnings).hasSize(1);
                assertThat(warnings.get(0).path("text").asText())
                        .isEqualTo("broken.yml:3:10: env TOKEN: the server environment variable NOT_SET_ANYWHERE_4711"
                                + " is not set; executions of broken fail until it is");
                server.post("/jobs/db");
                JsonNode db = await(server, "/jobs/db/1");
                assertThat(db.path("status").asText()).isEqualTo("complete");
                assertThat(server.send(HttpRequest.newBuilder(server.uri("/jobs/db/1/stdout")))
                                .body())
                        .isEqualTo("pw=*** user=app\n");
                server.post("/jobs/broken");
                JsonNode broken = await(server, "/jobs/broken/1");
                assertThat(broken.path("status").asText()).isEqualTo("fail");
                assertThat(broken.path("events").get(2).path("cause").asText())
                        .isEqualTo("env TOKEN: the server environment variable NOT_SET_ANYWHERE_4711 is not set");
                assertThat(server.json("/jobs/db").toString()).doesNotContain("s3cret-value");
                assertThat(server.log()).doesNotContain("s3cret-value");
            }
        }
    }

    private static JsonNode await(JarServer server, String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode e = server.json(path);
        while (e.path("finished_at").isNull() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            e = server.json(path);
        }
        return e;
    }
}
