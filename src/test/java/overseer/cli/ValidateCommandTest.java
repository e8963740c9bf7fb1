package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.process.Fifos;
import picocli.CommandLine;

class ValidateCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private static Run validate(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = OverseerCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        String[] full = new String[args.length + 1];
        full[0] = "validate";
        System.arraycopy(args, 0, full, 1, args.length);
        int exit = cli.execute(full);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void cleanRepositoryExitsZero() throws Exception {
        Files.writeString(dir.resolve("a.yml"), "command: echo a\n");
        Run run = validate(dir.toString());
        assertThat(run.exit()).isZero();
        assertThat(run.out()).isEmpty();
        // Not a terminal: no progress line, only the result.
        assertThat(run.err()).isEqualTo("ok: 1 job(s)\n");
    }

    @Test
    void problemsArePrintedAsFileLineColumnAndExitOne() throws Exception {
        Files.createDirectories(dir.resolve("team"));
        Files.writeString(dir.resolve("team/b.yml"), "command: echo\nvars:\n  - name: x\n    type: nope\n");
        Files.writeString(dir.resolve("c.json"), "{\"command\": 1.5, \"overlap\": \"never\"}");
        Run run = validate(dir.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out().lines().toList()).hasSize(2).allMatch(l -> l.matches("[^:]+:\\d+:\\d+: .+"));
        assertThat(run.out())
                .contains("team/b.yml:4:11: unknown var type 'nope'")
                .contains("c.json:1:29: 'overlap' must be one of queue, skip, replace, got 'never'");
    }

    @Test
    void aJobFileThatCannotBeReadIsAProblemNotAMissingJob() throws Exception {
        Files.writeString(dir.resolve("good.yml"), "command: echo good\n");
        // Made through the server's own binding: a mkfifo child could be reaped by the
        // reaper of a server another test started in this JVM, and its exit status lost.
        Fifos.create(dir.resolve("pipe.yml"));
        Run run = validate(dir.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out() + run.err()).contains("pipe.yml:1:1: cannot read: not a regular file");
    }

    @Test
    void exampleRepositoryOfThisProjectIsValid() {
        Run run = validate("example-config-repo");
        assertThat(run.out()).isEmpty();
        assertThat(run.exit()).isZero();
    }

    @Test
    void missingDirectoryIsAUsageError() {
        assertThat(validate(dir.resolve("nope").toString()).exit()).isEqualTo(2);
    }
}
