package overseer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The remote command line: each sub-command is one or two API calls and prints a line or a stream. */
final class RemoteCommands {
    private RemoteCommands() {}

    /**
     * What every remote command shares: the server options, and a refusal printed as one line on
     * stderr with exit code 1. A command checks its arguments in {@link #check} and talks to the
     * server in {@link #run}.
     */
    abstract static class RemoteCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Remote.Options options = new Remote.Options();

        /** Refuses bad arguments with a {@link CommandLine.ParameterException}, before any call. */
        void check() {}

        abstract int run(Remote remote) throws Remote.Failure, InterruptedException;

        @Override
        public final Integer call() throws InterruptedException {
            check();
            try (Remote remote = new Remote(options)) {
                return run(remote);
            } catch (Remote.Failure e) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("overseer " + spec.name() + ": " + e.getMessage());
                err.flush();
                return 1;
            }
        }
    }

    static String describe(JsonNode e) {
        String exit = e.path("exit_code").isNull() || e.path("exit_code").isMissingNode()
                ? ""
                : " (exit " + e.path("exit_code").asInt() + ")";
        // The state says what became of it; a latest event it does not already say (a custom
        // one, a signal on its way) is shown beside it.
        String state = e.path("state").asText(e.path("status").asText());
        String status = e.path("status").asText();
        String latest = SAID_BY.getOrDefault(state, java.util.Set.of()).contains(status) ? "" : " [" + status + "]";
        return e.path("job").asText() + "/" + e.path("execution").asLong() + " " + state + latest + exit;
    }

    /** The latest events each state already says. */
    private static final Map<String, java.util.Set<String>> SAID_BY = Map.of(
            "queued", java.util.Set.of("queued"),
            "running", java.util.Set.of("start", "continue"),
            "stopped", java.util.Set.of("stop"),
            "succeeded", java.util.Set.of("complete"),
            "failed", java.util.Set.of("fail"),
            "timed-out", java.util.Set.of("time-out"),
            "killed", java.util.Set.of("fail"),
            "cancelled", java.util.Set.of("fail"),
            "skipped", java.util.Set.of("skipped"),
            "lost", java.util.Set.of("lost"));

    /** The exit code a finished execution stands for: its own, 124 for a time-out, 1 for a signal or a start that failed. */
    static int exitCode(JsonNode e) {
        if (e.path("status").asText().equals("time-out")) {
            return 124;
        }
        if (!e.path("exit_code").isNull() && !e.path("exit_code").isMissingNode()) {
            return e.path("exit_code").asInt();
        }
        return e.path("status").asText().equals("complete") ? 0 : 1;
    }

    /** Polls until the execution has finished. */
    static JsonNode awaitEnd(Remote remote, String job, long n) throws Remote.Failure, InterruptedException {
        JsonNode e = remote.get(Remote.path("jobs", job, Long.toString(n)));
        while (e.path("finished_at").isNull()) {
            Thread.sleep(500);
            e = remote.get(Remote.path("jobs", job, Long.toString(n)));
        }
        return e;
    }

    @Command(
            name = "trigger",
            description = {
                "Trigger a job on a server.",
                "With --wait or --follow, exit with the job's exit code (124 on time-out); --follow",
                "also prints its output as it comes."
            })
    static final class Trigger extends RemoteCommand {
        @Parameters(index = "0", paramLabel = "JOB")
        String job;

        @Option(
                names = {"-p", "--param"},
                paramLabel = "NAME=VALUE",
                description = "a parameter; repeat for list items")
        List<String> params = new ArrayList<>();

        @Option(names = "--wait", description = "wait for the end and exit with the job's code")
        boolean await;

        @Option(
                names = {"-f", "--follow"},
                description = "print the output while it runs, then exit with the job's code")
        boolean follow;

        @Override
        int run(Remote remote) throws Remote.Failure, InterruptedException {
            JsonNode e = remote.postForm(Remote.path("jobs", job), Remote.form(params));
            long n = e.path("execution").asLong();
            PrintStream out = System.out;
            if (!follow) {
                out.println(describe(e));
            }
            if (!await && !follow) {
                return 0;
            }
            if (follow) {
                remote.copy(Remote.path("jobs", job, Long.toString(n), "output") + "?follow=1", out);
            }
            JsonNode end = awaitEnd(remote, job, n);
            (follow ? System.err : out).println(describe(end));
            return exitCode(end);
        }
    }

    @Command(name = "logs", description = "Print an execution's output; -f follows it until the execution ends.")
    static final class Logs extends RemoteCommand {
        @Parameters(index = "0", paramLabel = "JOB")
        String job;

        @Parameters(index = "1", paramLabel = "N")
        long number;

        @Option(
                names = {"-f", "--follow"},
                description = "keep printing until the execution ends")
        boolean follow;

        @Option(
                names = "--stream",
                defaultValue = "output",
                description = "stdout, stderr or output (both, interleaved)")
        String stream;

        @Override
        void check() {
            if (!List.of("stdout", "stderr", "output").contains(stream)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--stream is stdout, stderr or output");
            }
        }

        @Override
        int run(Remote remote) throws Remote.Failure, InterruptedException {
            remote.copy(
                    Remote.path("jobs", job, Long.toString(number), stream) + (follow ? "?follow=1" : ""), System.out);
            return 0;
        }
    }

    @Command(name = "status", description = "Show a job (its latest executions) or one execution with its events.")
    static final class Status extends RemoteCommand {
        @Parameters(index = "0", paramLabel = "JOB")
        String job;

        @Parameters(index = "1", paramLabel = "N", arity = "0..1")
        Long number;

        @Override
        int run(Remote remote) throws Remote.Failure, InterruptedException {
            PrintStream out = System.out;
            if (number == null) {
                JsonNode j = remote.get(Remote.path("jobs", job));
                out.println(j.path("name").asText()
                        + (j.path("enabled").asBoolean() ? "" : " (disabled)")
                        + (j.path("description").isNull()
                                ? ""
                                : ": " + j.path("description").asText()));
                j.path("schedules")
                        .forEach(s ->
                                out.println("  schedule " + s.path("frequency").asText() + " next "
                                        + s.path("next_run").asText("-")));
                j.path("executions")
                        .forEach(e -> out.println(
                                "  " + describe(e) + " " + e.path("created_at").asText()));
                return 0;
            }
            JsonNode e = remote.get(Remote.path("jobs", job, Long.toString(number)));
            out.println(describe(e) + " " + e.path("trigger").asText() + " "
                    + e.path("commit").asText());
            e.path("events")
                    .forEach(ev -> out.println("  " + ev.path("at").asText() + " "
                            + ev.path("name").asText()
                            + (ev.path("cause").isNull()
                                    ? ""
                                    : ": " + ev.path("cause").asText())));
            return 0;
        }
    }

    @Command(name = "jobs", description = "List the server's jobs with their latest execution.")
    static final class Jobs extends RemoteCommand {
        @Override
        int run(Remote remote) throws Remote.Failure, InterruptedException {
            for (JsonNode j : remote.get("/jobs")) {
                JsonNode last = j.path("last_execution");
                System.out.println(j.path("name").asText()
                        + (j.path("enabled").asBoolean() ? "" : " (disabled)")
                        + (last.isNull() || last.isMissingNode() ? "" : "  last: " + describe(last)));
            }
            return 0;
        }
    }

    @Command(name = "signal", description = "Send stop, continue, terminate or kill to an execution.")
    static final class Signal extends RemoteCommand {
        @Parameters(index = "0", paramLabel = "JOB")
        String job;

        @Parameters(index = "1", paramLabel = "N")
        long number;

        @Parameters(index = "2", paramLabel = "SIGNAL", description = "stop, continue, terminate or kill")
        String signal;

        @Override
        void check() {
            if (!List.of("stop", "continue", "terminate", "kill").contains(signal)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "SIGNAL is stop, continue, terminate or kill");
            }
        }

        @Override
        int run(Remote remote) throws Remote.Failure, InterruptedException {
            JsonNode e = remote.putJson(Remote.path("jobs", job, Long.toString(number)), Map.of("event", signal));
            System.out.println(describe(e));
            return 0;
        }
    }
}
