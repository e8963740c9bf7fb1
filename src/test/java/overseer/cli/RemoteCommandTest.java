package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** The remote command line against a real server: trigger, follow, logs, status, jobs, signal. */
class RemoteCommandTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with(
                        "greet.yml",
                        "command: echo hello {{ who }}; sleep 0.2; echo warn >&2; exit 3\nvars:\n  - {name: who}\n")
                .with("slow.yml", "command: echo started; sleep 30\n")
                .commit("jobs");
        server = fixture.server();
    }

    private record Result(int exit, String out, String err) {}

    private Result overseer(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream errStream = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(errStream, true, StandardCharsets.UTF_8));
        try {
            List<String> all = new ArrayList<>(List.of(args));
            all.add("--server");
            all.add(server.uri("").toString());
            var cli = OverseerCommand.commandLine();
            cli.setErr(new PrintWriter(err));
            int exit = cli.execute(all.toArray(String[]::new));
            return new Result(
                    exit, out.toString(StandardCharsets.UTF_8), err + errStream.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void triggerWaitsFollowsAndExitsWithTheJobsCode() {
        Result follow = overseer("trigger", "greet", "-p", "who=world", "--follow");
        assertThat(follow.exit()).isEqualTo(3);
        assertThat(follow.out()).isEqualTo("hello world\nwarn\n");
        assertThat(follow.err()).contains("greet/1 failed (exit 3)");
        Result plain = overseer("trigger", "greet", "-p", "who=you");
        assertThat(plain.exit()).isZero();
        assertThat(plain.out()).startsWith("greet/2 queued");
        Result waited = overseer("trigger", "greet", "--wait");
        assertThat(waited.exit()).isEqualTo(3);
        assertThat(overseer("logs", "greet", "1", "--stream", "stdout").out()).isEqualTo("hello world\n");
        Result status = overseer("status", "greet", "1");
        assertThat(status.out()).startsWith("greet/1 failed (exit 3) cli ").contains(" start", " fail: exit code 3");
        assertThat(overseer("jobs").out()).contains("greet  last: greet/3 failed (exit 3)", "slow\n");
    }

    @Test
    void signalKillsARunningJobAndErrorsAreOneLine() throws Exception {
        assertThat(overseer("trigger", "slow").exit()).isZero();
        server.await("/jobs/slow/1", e -> e.path("status").asText().equals("start"));
        Result killed = overseer("signal", "slow", "1", "kill");
        assertThat(killed.exit()).isZero();
        // The answer is the execution as it is now: running with the kill as its latest event, or
        // already ended by it.
        assertThat(killed.out()).containsPattern("^slow/1 (running \\[kill\\]|killed)");
        JsonNode ended = server.awaitFinished("slow", 1);
        assertThat(ended.path("status").asText()).isEqualTo("fail");
        assertThat(ended.path("events").findValuesAsText("name")).contains("kill");
        Result follow = overseer("logs", "slow", "1", "-f");
        assertThat(follow.out()).isEqualTo("started\n");
        Result unknown = overseer("trigger", "nope");
        assertThat(unknown.exit()).isEqualTo(1);
        // One line from the command (the in-process server's own log lines follow it on stderr).
        assertThat(unknown.err().lines().findFirst()).contains("overseer trigger: 404: no job named 'nope'");
        Result bad = overseer("trigger", "greet", "-p", "missing=1");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).startsWith("overseer trigger: 400: ");
    }
}
