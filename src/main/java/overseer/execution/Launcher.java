package overseer.execution;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Starts a job's process: in its own session and process group, stdin from /dev/null. */
public interface Launcher {
    /** What to run: {@code argv[0]} is an absolute path; {@code env} holds {@code NAME=value} entries. */
    record Command(List<String> argv, List<String> env, Path directory) {
        public Command {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
        }
    }

    /** A started process; its pid is also its process group and session id. */
    record Process(long pid, InputStream stdout, InputStream stderr, CompletableFuture<ExitStatus> exit) {}

    Process start(Command command) throws IOException;
}
