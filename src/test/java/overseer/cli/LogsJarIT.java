package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.Receiver;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code --log-format json}: every line is a JSON object, executions are named, and no secret is written. */
class LogsJarIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN = "admin-token-for-the-log-test-0123";
    private static final String HOOK_SECRET = "hook-secret-for-the-log-test-4567";
    private static final String PASSWORD = "param-secret-for-the-log-test-89ab";

    @TempDir
    Path tmp;

    @Test
    void jsonLinesParseCarryTheExecutionAndNoSecret() throws Exception {
        Path tokens = Files.writeString(tmp.resolve("tokens"), "admin " + ADMIN + "\n");
        try (Receiver receiver = Receiver.down();
                TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            String hook = receiver.url("/hook").replace("http://", "http://user:url-password@") + "?key=query-secret";
            repo.with("overseer.yml", """
                            hooks:
                              - url: %s
                                events: [fail]
                                secret: ${HOOK_SECRET}
                            """.formatted(hook))
                    .with("flaky.yml", """
                            vars:
                              - {name: password, type: str, secret: true}
                            command: echo {{ password }}; echo {{ password }} >&2; exit 3
                            retry: {times: 1, delay: 0.1}
                            """)
                    .commit("jobs");
            try (JarServer server = JarServer.start(
                    repo.url(),
                    tmp.resolve("data"),
                    tmp.resolve("server.log"),
                    Map.of("HOOK_SECRET", HOOK_SECRET),
                    "--tokens",
                    tokens.toString(),
                    "--log-format",
                    "json",
                    "--log-level",
                    "debug",
                    "--webhook-retry",
                    "200ms")) {
                // A file name with a line break is one JSON string, not a second line.
                repo.with("bad\n{\"level\":\"forged\"}.yml", "command: x\n").commit("a forged line");
                var sync = server.send(admin(server, "/config/sync").POST(HttpRequest.BodyPublishers.noBody()));
                assertThat(TestServer.parse(sync.body()).path("result").asText())
                        .isEqualTo("invalid");
                var created = server.send(admin(server, "/jobs/flaky")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"password\": \"" + PASSWORD + "\"}")));
                assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
                List<JsonNode> lines = awaitLine(
                        server,
                        line -> line.path("formattedMessage").asText().contains("retries are used up")
                                && line.path("mdc").path("execution").asText().equals("2"));
                assertThat(lines).allSatisfy(line -> {
                    assertThat(line.path("timestamp").asLong()).isPositive();
                    assertThat(line.path("level").asText()).isIn("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
                    assertThat(line.path("loggerName").asText()).isNotEmpty();
                    assertThat(line.has("formattedMessage")).isTrue();
                });
                assertThat(lines).anySatisfy(line -> {
                    assertThat(line.path("mdc").path("job").asText()).isEqualTo("flaky");
                    assertThat(line.path("formattedMessage").asText()).contains("retries are used up");
                });
                assertThat(lines)
                        .anySatisfy(
                                line -> assertThat(line.path("formattedMessage").asText())
                                        .contains("bad\n{\"level\":\"forged\"}.yml"));
                awaitLine(server, line -> line.path("formattedMessage").asText().contains("webhooks:"));
                assertThat(server.log())
                        .doesNotContain(ADMIN)
                        .doesNotContain(HOOK_SECRET)
                        .doesNotContain(PASSWORD)
                        .doesNotContain("url-password")
                        .doesNotContain("query-secret");
            }
        }
    }

    private static HttpRequest.Builder admin(JarServer server, String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + ADMIN);
    }

    /** Waits until a log line matches, and answers all lines, each parsed (a line that is not JSON fails). */
    private static List<JsonNode> awaitLine(JarServer server, java.util.function.Predicate<JsonNode> wanted)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : server.log().split("\n")) {
                if (!line.isEmpty()) {
                    JsonNode parsed = JSON.readTree(line);
                    assertThat(parsed.isObject()).as(line).isTrue();
                    lines.add(parsed);
                }
            }
            if (lines.stream().anyMatch(wanted) || System.nanoTime() > deadline) {
                assertThat(lines).anyMatch(wanted);
                return lines;
            }
            Thread.sleep(100);
        }
    }
}
