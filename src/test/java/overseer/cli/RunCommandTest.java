package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code overseer run}: the same checks and rendering as the server, output to the terminal. */
class RunCommandTest {
    @TempDir
    Path repo;

    private record Result(int exit, String out, String err) {}

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter messages = new StringWriter();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = OverseerCommand.commandLine();
            cli.setErr(new PrintWriter(messages));
            int exit = cli.execute(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err + messages.toString());
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void runsTheJobWithItsParamsAndExitsWithItsCode() throws Exception {
        Files.writeString(repo.resolve("greet.yml"), """
                command: hello {{ who }}; exit 7
                vars:
                  - {name: who, required: true}
                  - {name: password, secret: true, default: topsecret}
                """);
        Files.createDirectories(repo.resolve("bin"));
        Path hello = Files.writeString(
                repo.resolve("bin/hello"), "#!/bin/sh\necho \"hello [$1] $OVERSEER_VAR_password\"; echo warn >&2\n");
        hello.toFile().setExecutable(true);

        Result r = run("run", "greet", "-p", "who=$(id) x", "--repo", repo.toString());
        assertThat(r.exit()).isEqualTo(7);
        assertThat(r.out()).isEqualTo("hello [$(id) x] ***\n");
        assertThat(r.err()).contains("warn\n");

        Result missing = run("run", "greet", "--repo", repo.toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("who: required parameter is missing");
        assertThat(run("run", "nope", "--repo", repo.toString()).err()).contains("no job named 'nope'");
    }

    @Test
    void aTimeOutExitsWith124() throws Exception {
        Files.writeString(repo.resolve("slow.yml"), "command: sleep 30\ntimeout: 0.3\n");
        Result r = run("run", "slow", "--repo", repo.toString());
        assertThat(r.exit()).isEqualTo(124);
        assertThat(r.err()).startsWith("overseer run: ").contains("0.3");
    }

    @Test
    void theEventHelperWorksInALocalRunAndPrintsTheEvents() throws Exception {
        Files.writeString(repo.resolve("steps.yml"), """
                command: event fetched "3 rows"; event 'Bad' 2>&1; echo "exit=$?"; event done
                """);
        Result r = run("run", "steps", "--repo", repo.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.err()).contains("event: fetched: 3 rows\n").contains("event: done\n");
        assertThat(r.out()).contains("event: event name 'Bad' must match").contains("exit=1");
    }
}
