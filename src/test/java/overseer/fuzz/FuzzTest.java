package overseer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.job.JobName;
import overseer.job.JobParser;
import overseer.job.RepoSettings;
import overseer.template.Renderer;
import overseer.testing.RawHttp;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * Seeded random and malicious input against the real server and the job parser: no 500, no
 * exception out of a parser, and a healthy server afterwards. CI runs a fixed seed and a few
 * hundred tries; for a long run: {@code ./mvnw test -Dtest=FuzzTest -Doverseer.fuzz.seed=$RANDOM
 * -Doverseer.fuzz.tries=20000}. A failure names the seed and the try, which replay it exactly.
 */
class FuzzTest {
    private static final long SEED = Long.getLong("overseer.fuzz.seed", 20261125L);
    private static final int TRIES = Integer.getInteger("overseer.fuzz.tries", 300);

    private static final List<String> PATHS = List.of(
            "/jobs",
            "/jobs/echo",
            "/jobs/echo/1",
            "/jobs/echo/1/stdout",
            "/jobs/echo/1/output",
            "/jobs/echo/executions",
            "/jobs/echo/1/start",
            "/config",
            "/config/sync",
            "/hooks/git",
            "/hooks/test",
            "/deliveries",
            "/deliveries/x/retry",
            "/health",
            "/ready",
            "/version",
            "/jobs/echo/999999999999999999999");
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS");
    private static final List<String> NASTY = List.of(
            "..",
            "%2e%2e",
            "%00",
            "%0a",
            "%ff",
            "１",
            "01",
            "-1",
            "9".repeat(40),
            "{{7*7}}",
            "$(id)",
            "`id`",
            "'",
            "\"",
            "<script>",
            "\\",
            "%",
            "/",
            "//",
            ";",
            "*",
            "?x=1&x=2",
            "#",
            "\u00e9",
            "\ud83d\ude00");
    private static final List<String> HEADERS = List.of(
            "Range: bytes=",
            "Range: bytes=-",
            "Range: bytes=5-1",
            "Range: bytes=0-0,1-1",
            "Range: items=0-1",
            "Content-Type: application/json",
            "Content-Type: application/x-www-form-urlencoded",
            "Content-Type: text/plain",
            "Idempotency-Key: ",
            "Authorization: Bearer ",
            "Origin: null",
            "Sec-Fetch-Site: cross-site",
            "Content-Type: application/json; charset=utf-16",
            "X-Hub-Signature-256: sha256=00");

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with("echo.yml", """
                        command: echo {{ text }} {{ n }}
                        vars:
                          - {name: text}
                          - {name: n, type: int}
                          - {name: m, type: map}
                          - {name: when, type: timestamp}
                          - {name: color, type: enum, values: [red, blue]}
                          - {name: bits, type: binary}
                        """).commit("jobs");
        server = fixture.server();
        server.trigger("echo", "{\"text\": \"hi\"}");
        server.awaitFinished("echo", 1);
    }

    @Test
    void randomRequestsNeverMakeA500AndLeaveTheServerHealthy() throws Exception {
        Random random = new Random(SEED);
        int port = server.uri("/").getPort();
        for (int i = 0; i < TRIES; i++) {
            String method = pick(random, METHODS);
            String path = pick(random, PATHS);
            if (random.nextBoolean()) {
                path += "/" + pick(random, NASTY);
            }
            if (random.nextInt(4) == 0) {
                path = path.replace("echo", pick(random, NASTY));
            }
            StringBuilder head =
                    new StringBuilder(method + " " + path.replace(" ", "%20") + " HTTP/1.1\r\nHost: 127.0.0.1");
            for (int h = random.nextInt(4); h > 0; h--) {
                head.append("\r\n")
                        .append(pick(random, HEADERS))
                        .append(random.nextBoolean() ? pick(random, NASTY) : "");
            }
            String body = random.nextBoolean() ? json(random, 0) : form(random);
            String response = RawHttp.exchange(port, head.toString(), body);
            assertThat(response)
                    .as("seed %d, try %d: %s %s with %s", SEED, i, method, path, body)
                    .doesNotStartWith("HTTP/1.1 500")
                    .startsWith("HTTP/1.1 ");
        }
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
        // The fuzz may have disabled the job on the way.
        server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/echo"))
                .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()));
        server.trigger("echo", "{\"text\": \"still here\"}");
        assertThat(server.json("/jobs/echo/executions").size()).isGreaterThan(1);
    }

    @Test
    void randomJobFilesGiveProblemsNeverExceptions() {
        Random random = new Random(SEED);
        JobParser parser = new JobParser(new Renderer(new ObjectMapper()));
        String valid = """
                description: a job
                command: echo {{ a }} {{ b | raw }}
                timeout: 30
                vars:
                  - {name: a, type: int, default: 1}
                  - {name: b, type: enum, values: [x, y]}
                schedule:
                  - {frequency: "0 * * * *", timezone: Europe/Berlin, vars: {a: 2}}
                  - {frequency: 60, catchup: all}
                env: {A: "1", B: "${HOME}"}
                retry: {times: 2, delay: 1}
                hooks:
                  - {url: "https://example.com/h", events: ["*"]}
                """;
        List<String> pieces = List.of(
                "&a [*a, *a, *a]",
                "{{",
                "{%",
                "- ",
                ": ",
                "\t",
                "\n",
                "]",
                "}",
                "'",
                "\"",
                "!!binary",
                "!!python/object",
                "? ",
                "<<: *x",
                "9".repeat(400),
                "0x",
                "-",
                ".nan",
                "~",
                "\u0000",
                "\ufeff",
                "@daily",
                "* * * * * * * *");
        for (int i = 0; i < TRIES * 3; i++) {
            StringBuilder text = new StringBuilder(valid);
            for (int m = 1 + random.nextInt(4); m > 0; m--) {
                int at = random.nextInt(text.length() + 1);
                switch (random.nextInt(3)) {
                    case 0 -> text.insert(at, pick(random, pieces));
                    case 1 -> text.delete(at, Math.min(text.length(), at + 1 + random.nextInt(8)));
                    default ->
                        text.replace(at, Math.min(text.length(), at + 1), String.valueOf((char) random.nextInt(128)));
                }
            }
            String file = text.toString();
            int attempt = i;
            try {
                parser.parseJob("fuzz.yml", new JobName("fuzz"), file, path -> Optional.empty(), RepoSettings.NONE);
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + SEED + ", try " + attempt + ": the parser threw on:\n" + file, e);
            }
        }
    }

    private static String json(Random random, int depth) {
        return switch (depth > 6 ? random.nextInt(4) : random.nextInt(8)) {
            case 0 -> "\"" + pick(random, NASTY) + "\"";
            case 1 -> String.valueOf(random.nextLong());
            case 2 -> "1e" + random.nextInt(400);
            case 3 -> pick(random, List.of("true", "null", "[]", "{}", "", "{", "[1,", "{\"a\":1}{", "\u0000"));
            case 4 -> "[" + json(random, depth + 1) + "," + json(random, depth + 1) + "]";
            default ->
                "{\"" + pick(random, List.of("text", "n", "m", "when", "color", "bits", "event", "cause", "x")) + "\": "
                        + json(random, depth + 1) + "}";
        };
    }

    private static String form(Random random) {
        return pick(random, List.of("text", "n", "when", "color", "bits", "%zz", "")) + "=" + pick(random, NASTY);
    }

    private static <T> T pick(Random random, List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
