package overseer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import overseer.config.FileTree;
import overseer.config.RepositoryLoader;
import overseer.execution.InvalidParams;
import overseer.execution.LocalRun;
import overseer.execution.Params;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.JobParser;
import overseer.job.Problem;
import overseer.process.PosixSpawnLauncher;
import overseer.template.RenderException;
import overseer.template.Renderer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code overseer run <job> [-p name=value]… [--repo DIR]}: runs a job once, here, to the terminal. */
@Command(
        name = "run",
        description = {
            "Run a job once from a local configuration directory, as the server would.",
            "The server's parameter checks and rendering apply; output goes to the terminal and the",
            "exit code is the job's (124 on time-out)."
        })
public final class RunCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "JOB", description = "the job to run")
    String job;

    @Option(
            names = {"-p", "--param"},
            paramLabel = "NAME=VALUE",
            description = "a parameter; repeat for several, or for the items of a list")
    List<String> params = new ArrayList<>();

    @Option(names = "--repo", defaultValue = ".", description = "the configuration directory (default: .)")
    Path repo;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isDirectory(repo)) {
            err.println("overseer run: " + repo + " is not a directory");
            return 2;
        }
        ObjectMapper json = new ObjectMapper();
        Renderer renderer = new Renderer(json);
        RepositoryLoader.Loaded loaded = new RepositoryLoader(new JobParser(renderer)).load(FileTree.of(repo), "");
        if (!loaded.valid()) {
            for (Problem p : loaded.problems()) {
                err.println(p);
            }
            err.println(
                    "overseer run: the configuration has " + loaded.problems().size() + " problem(s)");
            return 2;
        }
        JobDefinition definition = JobName.isValid(job) ? loaded.jobs().get(new JobName(job)) : null;
        if (definition == null) {
            err.println("overseer run: no job named '" + job + "' in " + repo);
            return 2;
        }
        Map<String, List<String>> given = new LinkedHashMap<>();
        for (String p : params) {
            int eq = p.indexOf('=');
            if (eq < 1) {
                err.println("overseer run: -p takes NAME=VALUE, got '" + p + "'");
                return 2;
            }
            given.computeIfAbsent(p.substring(0, eq), k -> new ArrayList<>()).add(p.substring(eq + 1));
        }
        err.flush();
        try {
            return new LocalRun(new PosixSpawnLauncher(), renderer, new Params(json))
                    .run(definition, given, repo.toAbsolutePath().normalize(), System.out, System.err);
        } catch (InvalidParams e) {
            for (InvalidParams.FieldError f : e.errors()) {
                err.println("overseer run: " + f.field() + ": " + f.message());
            }
            return 2;
        } catch (RenderException e) {
            err.println("overseer run: cannot render the command: " + e.getMessage());
            return 2;
        }
    }
}
