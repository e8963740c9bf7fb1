package overseer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import overseer.config.FileTree;
import overseer.config.RepositoryLoader;
import overseer.job.JobParser;
import overseer.job.Problem;
import overseer.template.Renderer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code overseer validate [DIR]}: lints a configuration directory the way the server would. */
@Command(
        name = "validate",
        description = {
            "Check every job file of a configuration repository by the rules the server applies.",
            "Prints one 'file:line:col: message' line per problem; exit 1 if there is any, 0 if none."
        })
public final class ValidateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(
            index = "0",
            arity = "0..1",
            defaultValue = ".",
            paramLabel = "DIR",
            description = "the directory holding the job files (default: the current directory)")
    Path dir;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isDirectory(dir)) {
            err.println("overseer validate: " + dir + " is not a directory");
            return 2;
        }
        RepositoryLoader.Loaded loaded = new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper())))
                .load(FileTree.of(dir), "", progress(err));
        if (overseer.config.Progress.onTerminal()) {
            err.print("\r\033[K");
            err.flush();
        }
        for (Problem problem : loaded.problems()) {
            out.println(problem);
        }
        out.flush();
        if (!loaded.valid()) {
            err.println(loaded.problems().size() + " problem(s) found");
            return 1;
        }
        err.println("ok: " + loaded.jobs().size() + " job(s)");
        return 0;
    }

    /** On a terminal, a line counting the job files validated, redrawn at most ten times a second. */
    private static RepositoryLoader.Parsed progress(PrintWriter err) {
        if (!overseer.config.Progress.onTerminal()) {
            return (done, total) -> {};
        }
        java.util.concurrent.atomic.AtomicLong shown = new java.util.concurrent.atomic.AtomicLong();
        return (done, total) -> {
            long now = System.nanoTime();
            long last = shown.get();
            if (done == total || (now - last > 100_000_000L && shown.compareAndSet(last, now))) {
                synchronized (err) {
                    err.print("\rvalidating job files: " + done + "/" + total);
                    err.flush();
                }
            }
        };
    }
}
