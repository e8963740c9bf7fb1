package overseer.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Repository-wide settings from {@code overseer.yml}: hooks for all jobs and job defaults. */
public record RepoSettings(List<HookSpec> hooks, Optional<Duration> defaultTimeout, Map<String, String> defaultEnv) {
    public static final RepoSettings NONE = new RepoSettings(List.of(), Optional.empty(), Map.of());

    public RepoSettings {
        hooks = List.copyOf(hooks);
        defaultEnv = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(defaultEnv));
    }
}
