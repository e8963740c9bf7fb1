package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * The event channel under {@code --job-user}: a job that hands the server a request directory
 * full of traps (symbolic links to the server's secrets, an {@code ack} swapped for a link to a
 * root file, named pipes instead of files) gets a refusal and nothing else. Needs root and an
 * unprivileged account ({@code nobody}), as {@code --job-user} does.
 */
class EventChannelJobUserTest {
    /** Sends the request directory $1 down the pipe and prints the server's one-line answer. */
    private static final String SEND = """
            send() {
              mkfifo "$1/ack"
              exec 3<>"$1/ack"
              exec 4<>"$OVERSEER_EVENTS"
              printf '%s\\n' "$1" >&4
              exec 4>&-
              timeout 5 head -n 1 <&3
              exec 3<&-
            }
            request() {
              printf '%s\\n%s\\n%s\\n%s\\n' "$OVERSEER_JOB" "$OVERSEER_EXECUTION" "$OVERSEER_TOKEN" "$1"
            }
            """;

    @TempDir
    Path tmp;

    String secret = "SECRET-" + UUID.randomUUID();
    Path secretFile;
    Path target;
    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(
                System.getProperty("user.name").equals("root"),
                "--job-user needs the server to run as root; skipped as " + System.getProperty("user.name"));
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "--job-user needs /usr/bin/setpriv");
        // The job user passes through the test's directory to the data directory, and no further.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        // Shaped like /etc/shadow: the parse error of old echoed its second line.
        secretFile = tmp.resolve("tokens");
        Files.writeString(secretFile, "root:x\n" + secret + "\n3\n4\n");
        Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));
        target = tmp.resolve("root-only");
        Files.writeString(target, "original\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.with("steal.yml", "command: |\n" + indent(SEND + """
                                d=$(mktemp -d /tmp/overseer-event.XXXXXXXX)
                                request leaked > "$d/request"
                                ln -s %s "$d/cause"
                                echo "cause: $(send "$d")"
                                d=$(mktemp -d /tmp/overseer-event.XXXXXXXX)
                                ln -s %s "$d/request"
                                echo "request: $(send "$d")"
                                event honest "after the attempts"
                                """.formatted(secretFile, secretFile)))
                .with("swap.yml", "command: |\n" + indent(SEND + """
                                d=$(mktemp -d /tmp/overseer-event.XXXXXXXX)
                                touch "$d/keep"
                                perl -MPOSIX -e '($d, $t) = @ARGV; while (-d $d) {
                                  POSIX::mkfifo("$d/x", 0600); rename("$d/x", "$d/ack");
                                  symlink($t, "$d/y"); rename("$d/y", "$d/ack"); }' "$d" %s &
                                swapper=$!
                                exec 4<>"$OVERSEER_EVENTS"
                                i=0
                                while [ $i -lt 3000 ]; do
                                  request 'Planted line' > "$d/request"
                                  printf '%%s\\n' "$d" >&4
                                  i=$((i + 1))
                                done
                                exec 4>&-
                                event swapped
                                kill $swapper
                                wait
                                rm -rf "$d"
                                """.formatted(target)))
                .with("freeze.yml", "command: |\n" + indent("""
                                exec 4<>"$OVERSEER_EVENTS"
                                i=0
                                while [ $i -lt 80 ]; do
                                  d=$(mktemp -d /tmp/overseer-event.XXXXXXXX)
                                  mkfifo "$d/request" "$d/cause" "$d/ack"
                                  printf '%s\\n' "$d" >&4
                                  i=$((i + 1))
                                done
                                exec 4>&-
                                echo flooded
                                event flooded
                                """))
                .commit("attacks");
        server =
                TestServer.on(repo.url(), tmp.resolve("data")).jobUser("nobody").start();
    }

    private static String indent(String script) {
        return script.lines().map(l -> "  " + l + "\n").reduce("", String::concat);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (repo != null) {
            repo.close();
        }
    }

    @Test
    void symlinkedCauseAndRequestAreRefusedWithoutTheirContentAndNoEventCarriesTheSecret() throws Exception {
        server.trigger("steal", "{}");
        JsonNode done = server.awaitFinished("steal", 1);
        String out = server.get("/jobs/steal/1/stdout").body();
        assertThat(done.path("status").asText()).as(out).isEqualTo("complete");
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).startsWith("cause: ").isNotEqualTo("cause: ").isNotEqualTo("cause: ok");
        assertThat(lines[1]).startsWith("request: ").isNotEqualTo("request: ").isNotEqualTo("request: ok");
        assertThat(out).doesNotContain(secret, "root:x");
        assertThat(done.toString()).doesNotContain(secret);
        // The request with the symlinked cause named the event "leaked": it was never recorded.
        assertThat(done.path("events").findValuesAsText("name")).doesNotContain("leaked");
        assertThat(done.path("events").get(2).path("name").asText()).isEqualTo("honest");
    }

    @Test
    void anAckSwappedForASymlinkToARootFileLeavesThatFileUnchanged() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/perl")), "the swapping loop needs /usr/bin/perl");
        server.trigger("swap", "{}");
        JsonNode done = server.awaitFinished("swap", 1);
        assertThat(done.path("status").asText())
                .as(server.get("/jobs/swap/1/output").body())
                .isEqualTo("complete");
        assertThat(Files.readString(target)).isEqualTo("original\n");
    }

    @Test
    void namedPipesInsteadOfRequestFilesNeitherBlockTheServerNorHttp() throws Exception {
        HttpClient client = HttpClient.newBuilder().build();
        server.trigger("freeze", "{}");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!get(client, "/jobs/freeze/1/stdout").body().contains("flooded")) {
            assertThat(System.nanoTime()).as("the job floods the pipe").isLessThan(deadline);
            Thread.sleep(50);
        }
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            assertThat(get(client, "/health").statusCode()).isEqualTo(200);
            // A blocked server would not answer at all; the bound only keeps the test from hanging.
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
        JsonNode done = server.awaitFinished("freeze", 1);
        assertThat(done.path("status").asText()).isEqualTo("complete");
        assertThat(done.path("events").toString()).contains("\"flooded\"");
    }

    private HttpResponse<String> get(HttpClient client, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(server.uri(path))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
