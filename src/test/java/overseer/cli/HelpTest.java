package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code -h} and {@code --help} on every command print that command's options and exit 0. */
class HelpTest {
    private record Answer(int exit, String out, String err) {}

    private static Answer run(String... args) {
        CommandLine line = OverseerCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        line.setOut(new PrintWriter(out));
        line.setErr(new PrintWriter(err));
        int exit = line.execute(args);
        return new Answer(exit, out.toString(), err.toString());
    }

    private static List<List<String>> commands(CommandLine line, List<String> path) {
        List<List<String>> all = new ArrayList<>();
        for (var sub : line.getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) {
                continue;
            }
            List<String> here = new ArrayList<>(path);
            here.add(sub.getKey());
            all.add(here);
            all.addAll(commands(sub.getValue(), here));
        }
        return all;
    }

    @Test
    void everyCommandAnswersHelpWithItsOwnOptions() {
        List<List<String>> all = commands(OverseerCommand.commandLine(), List.of());
        assertThat(all).extracting(c -> String.join(" ", c)).contains("serve", "validate", "run", "trigger", "status");
        for (List<String> command : all) {
            for (String flag : List.of("-h", "--help")) {
                List<String> args = new ArrayList<>(command);
                args.add(flag);
                Answer a = run(args.toArray(String[]::new));
                assertThat(a.exit()).as(args + ": " + a.err()).isZero();
                assertThat(a.err()).as(args.toString()).isEmpty();
                assertThat(a.out()).as(args.toString()).contains("Usage: overseer " + String.join(" ", command));
            }
        }
        assertThat(run("serve", "--help").out()).contains("--repo").contains("--listen");
        assertThat(run("validate", "-h").out()).contains("Usage: overseer validate");
    }

    @Test
    void theTopLevelHelpGivesEachCommandAWholeSentence() {
        Answer a = run("--help");
        assertThat(a.exit()).isZero();
        String commands = a.out().substring(a.out().indexOf("Commands:"));
        List<String> entries = new ArrayList<>();
        for (String line : commands.lines().skip(1).toList()) {
            if (line.matches("  \\S.*")) {
                entries.add(line.strip());
            } else if (!line.isBlank()) {
                entries.set(entries.size() - 1, entries.getLast() + " " + line.strip());
            }
        }
        assertThat(entries).hasSizeGreaterThan(5);
        for (String entry : entries) {
            assertThat(entry).as(entry).matches("\\S+ +\\S.*\\.");
        }
    }
}
