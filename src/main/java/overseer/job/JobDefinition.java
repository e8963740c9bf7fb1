package overseer.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A validated job, as defined by one file of the configuration repository. {@code nodes}: the
 * labels a node must all have to run it (empty: any node).
 */
public record JobDefinition(
        JobName name,
        String file,
        Optional<String> description,
        Action action,
        Optional<Duration> timeout,
        List<VarSpec> vars,
        List<ScheduleSpec> schedules,
        Map<String, String> env,
        OptionalInt concurrency,
        Overlap overlap,
        List<HookSpec> hooks,
        Optional<RetrySpec> retry,
        List<EnvReference> envReferences,
        Streams streams,
        List<String> nodes) {
    public JobDefinition {
        nodes = List.copyOf(nodes);
        vars = List.copyOf(vars);
        schedules = List.copyOf(schedules);
        env = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(env));
        hooks = List.copyOf(hooks);
        envReferences = List.copyOf(envReferences);
    }
}
