package overseer.execution;

import java.util.List;
import java.util.Map;

/**
 * Everything needed to start an execution, fixed when it is triggered and stored with it, so a
 * queued execution starts the same after a restart or a new commit. {@code argv[0]} is relative
 * to the checkout for a script. {@code masked} lists the secret values to hide in the output;
 * {@code hiddenEnv} the server variables that hold hook secrets, which the job must not see;
 * {@code retry} the job's retry policy when it was triggered, or null; {@code mergeStreams}
 * whether the job has {@code streams: merged}; {@code nodes} the labels a node must have to run it.
 */
public record LaunchSpec(
        List<String> argv,
        Map<String, String> env,
        Long timeoutMillis,
        Integer concurrency,
        String overlap,
        List<String> masked,
        List<String> hiddenEnv,
        Retry retry,
        Boolean mergeStreams,
        List<String> nodes) {
    /** The job's {@code retry}, as it was when the execution was triggered. */
    public record Retry(int times, long delayMillis, double backoff, List<String> on) {
        public Retry {
            on = List.copyOf(on);
        }
    }

    public LaunchSpec {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        masked = List.copyOf(masked);
        hiddenEnv = List.copyOf(hiddenEnv);
        // Absent in specs stored before the job key existed.
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    /** Whether stderr goes to the stdout pipe; absent (null) in specs stored before {@code streams}. */
    boolean merged() {
        return Boolean.TRUE.equals(mergeStreams);
    }

    /** The job's concurrency when it was triggered; empty: no limit. */
    java.util.OptionalInt limit() {
        return concurrency == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(concurrency);
    }

    boolean runsNothing() {
        return argv.isEmpty();
    }
}
