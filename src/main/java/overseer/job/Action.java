package overseer.job;

import java.util.List;

/** What an execution of a job runs. */
public sealed interface Action {
    /** A command template run with {@code /bin/sh -c} after rendering. */
    record Command(String template) implements Action {}

    /** A file under {@code scripts/} executed directly, with argument templates. */
    record Script(String path, List<String> arguments) implements Action {
        public Script {
            arguments = List.copyOf(arguments);
        }
    }

    /** No command and no script: an execution completes at once. */
    record Nothing() implements Action {}
}
