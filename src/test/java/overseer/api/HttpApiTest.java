package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestServer;

class HttpApiTest {
    private static final String READ = "read-token-0123456789";
    private static final String ADMIN = "admin-token-0123456789";

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.jobs("deploy.yml", """
                description: Deploy
                command: deploy {{ service }}
                timeout: 90
                vars:
                  - name: service
                    required: true
                  - name: password
                    secret: true
                    default: hunter2
                schedule:
                  - frequency: "@hourly"
                    vars: {service: web}
                """);

    @Test
    void jobsListAndDetailShowTheDefinition() throws Exception {
        TestServer server = fixture.server();
        JsonNode jobs = server.json("/jobs");
        assertThat(jobs).singleElement().satisfies(j -> {
            assertThat(j.get("name").asText()).isEqualTo("deploy");
            assertThat(j.get("schedules").get(0).get("next_run").asText())
                    .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:00:00\\.000Z");
        });
        JsonNode job = server.json("/jobs/deploy");
        assertThat(job.get("command").asText()).isEqualTo("deploy {{ service }}");
        assertThat(job.get("timeout").asDouble()).isEqualTo(90.0);
        assertThat(job.get("vars").get(1).get("default").asText()).isEqualTo("***");
        assertThat(server.get("/jobs/deploy").body()).doesNotContain("hunter2");
    }

    @Test
    void unknownPathsAre404AndWrongMethods405WithAllow() throws Exception {
        TestServer server = fixture.server();
        HttpResponse<String> missing = server.get("/jobs/nope");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(TestServer.parse(missing.body()).get("detail").asText()).isEqualTo("no job named 'nope'");
        assertThat(server.get("/nothing/here").statusCode()).isEqualTo(404);

        HttpResponse<String> wrong =
                server.send(HttpRequest.newBuilder(server.uri("/config")).DELETE());
        assertThat(wrong.statusCode()).isEqualTo(405);
        assertThat(wrong.headers().firstValue("Allow")).contains("GET, HEAD");
        assertThat(TestServer.parse(wrong.body()).get("status").asInt()).isEqualTo(405);

        assertThat(server.get("/config/sync").headers().firstValue("Allow")).contains("POST");
    }

    @Test
    void healthAndVersion() throws Exception {
        TestServer server = fixture.server();
        assertThat(server.json("/health").get("status").asText()).isEqualTo("ok");
        assertThat(server.json("/health").get("jobs").asInt()).isEqualTo(1);
        assertThat(server.json("/version").get("version").asText()).isNotBlank().isNotEqualTo("unknown");
    }

    @Test
    void tokensAreRequiredAndRolesEnforced() throws Exception {
        Path tokens =
                Files.writeString(fixture.tmp().resolve("tokens"), "# roles\nread " + READ + "\nadmin " + ADMIN + "\n");
        TestServer server = fixture.start(settings -> settings.tokens(tokens));
        assertThat(server.get("/jobs").statusCode()).isEqualTo(401);
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
        HttpRequest.Builder bad = HttpRequest.newBuilder(server.uri("/jobs")).header("Authorization", "Bearer wrong");
        assertThat(server.send(bad).statusCode()).isEqualTo(401);
        HttpRequest.Builder read =
                HttpRequest.newBuilder(server.uri("/jobs")).header("Authorization", "Bearer " + READ);
        assertThat(server.send(read).statusCode()).isEqualTo(200);
        HttpRequest.Builder syncAsReader = HttpRequest.newBuilder(server.uri("/config/sync"))
                .header("Authorization", "Bearer " + READ)
                .POST(HttpRequest.BodyPublishers.noBody());
        assertThat(server.send(syncAsReader).statusCode()).isEqualTo(403);
        HttpRequest.Builder syncAsAdmin = HttpRequest.newBuilder(server.uri("/config/sync"))
                .header("Authorization", "Bearer " + ADMIN)
                .POST(HttpRequest.BodyPublishers.noBody());
        assertThat(server.send(syncAsAdmin).statusCode()).isEqualTo(200);
    }

    @Test
    void refusesToListenBeyondLoopbackWithoutTokens() {
        assertThatThrownBy(() -> new HttpApi(
                        new InetSocketAddress("0.0.0.0", 0),
                        new Router(),
                        new Exchanges(new com.fasterxml.jackson.databind.ObjectMapper()),
                        Optional.empty(),
                        HttpApi.Exposure.defaults(java.util.List.of()),
                        overseer.metrics.Metrics.none()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without --tokens");
    }
}
