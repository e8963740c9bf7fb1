package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Inputs that were a 500 or a silent surprise: each is now a clear 4xx. */
class StrictnessTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with("echo.yml", "command: echo {{ text }}\nvars:\n  - {name: text}\n")
                .commit("jobs");
        server = fixture.server();
        server.trigger("echo", "{\"text\": \"hi\"}");
        server.awaitFinished("echo", 1);
    }

    private int range(String value) throws Exception {
        return server.send(HttpRequest.newBuilder(server.uri("/jobs/echo/1/stdout"))
                        .header("Range", value))
                .statusCode();
    }

    @Test
    void hugeRangesAre416() throws Exception {
        assertThat(range("bytes=0-99999999999999999999")).isEqualTo(416);
        assertThat(range("bytes=-9223372036854775808")).isEqualTo(416);
        assertThat(range("bytes=99999999999999999999-")).isEqualTo(416);
        assertThat(range("bytes=0-1")).isEqualTo(206);
    }

    @Test
    void executionNumbersAreAsciiDigitsWithoutLeadingZeros() throws Exception {
        assertThat(server.get("/jobs/echo/1").statusCode()).isEqualTo(200);
        assertThat(server.get("/jobs/echo/01").statusCode()).isEqualTo(404);
        assertThat(server.get("/jobs/echo/%EF%BC%91/stdout").statusCode()).isEqualTo(404);
        assertThat(server.get("/jobs/echo/0").statusCode()).isEqualTo(404);
    }

    @Test
    void jsonWithDuplicateKeysTrailingDataOrInvalidUtf8Is400NamingTheProblem() throws Exception {
        HttpResponse<String> dup = server.postJson("/jobs/echo", "{\"text\": \"a\", \"text\": \"b\"}");
        assertThat(dup.statusCode()).isEqualTo(400);
        assertThat(dup.body()).contains("Duplicate field 'text'");
        HttpResponse<String> trailing = server.postJson("/jobs/echo", "{\"text\": \"a\"} {\"text\": \"b\"}");
        assertThat(trailing.statusCode()).isEqualTo(400);
        assertThat(trailing.body()).contains("Trailing token");
        byte[] bad = "{\"text\": \"a\u00ff\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        HttpResponse<String> utf8 = server.send(HttpRequest.newBuilder(server.uri("/jobs/echo"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bad)));
        assertThat(utf8.statusCode()).isEqualTo(400);
        assertThat(utf8.body()).contains("UTF-8");
        HttpResponse<String> event = server.put("/jobs/echo/1", "{\"event\": \"x\", \"event\": \"y\"}");
        assertThat(event.statusCode()).isEqualTo(400);
        assertThat(server.json("/jobs/echo/executions").size()).isEqualTo(1);
    }

    @Test
    void aTokenUnderTwoRolesIsRefusedAtStart() throws Exception {
        Path tokens = Files.writeString(
                fixture.tmp().resolve("tokens"), "read same-token-0123456789\nadmin same-token-0123456789\n");
        assertThatThrownBy(() -> Tokens.load(tokens))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(":2: this token is already listed on line 1");
    }

    @Test
    void aFormBodyWithABrokenPercentEscapeIs400() throws Exception {
        // Found by FuzzTest (seed 3): URLDecoder's IllegalArgumentException was a 500.
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/echo"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("text=%zz")));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("not valid form encoding");
    }
}
