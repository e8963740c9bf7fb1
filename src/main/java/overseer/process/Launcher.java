package overseer.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Starts a job's process: in its own session and process group, stdin from /dev/null. */
public interface Launcher {
    /**
     * What to run: {@code argv[0]} is an absolute path; {@code env} holds {@code NAME=value}
     * entries; {@code cgroup} is the cgroup the process enters before it runs {@code argv};
     * {@code mergeStreams} sends stderr to the stdout pipe (the stderr stream then ends at once).
     */
    record Command(
            List<String> argv,
            List<String> env,
            Path directory,
            Optional<Cgroups.Cgroup> cgroup,
            boolean mergeStreams) {
        public Command {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
        }

        public Command(List<String> argv, List<String> env, Path directory) {
            this(argv, env, directory, Optional.empty(), false);
        }

        /** The same command with other words (and no cgroup left to enter). */
        Command withArgv(List<String> other) {
            return new Command(other, env, directory, Optional.empty(), mergeStreams);
        }
    }

    /**
     * A started process; its pid is also its process group and session id. {@code pipes} names
     * the pipes its output goes to as {@code /proc/<pid>/fd} shows them ({@code pipe:[inode]}):
     * whatever process still holds one after the job ended belongs to the job.
     */
    record Process(
            long pid, InputStream stdout, InputStream stderr, CompletableFuture<ExitStatus> exit, Set<String> pipes) {
        public Process {
            pipes = Set.copyOf(pipes);
        }

        /** Closes our ends of the output pipes, for a process whose output will not be read. */
        public void closeStreams() {
            try (InputStream out = stdout;
                    InputStream err = stderr) {
                // Closed by the try.
            } catch (IOException e) {
                // Nothing more to do for output nobody reads.
            }
        }
    }

    Process start(Command command) throws IOException;
}
