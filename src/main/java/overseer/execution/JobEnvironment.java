package overseer.execution;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The environment of a job's process (SPEC section 3), built the same for the server and for
 * {@code overseer run}: the server's environment without Overseer's own settings and secrets and
 * without the hook-secret variables, then the job's env and vars, then the execution's identity,
 * and PATH with the library and the repository's {@code bin/} first.
 */
final class JobEnvironment {
    private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    private final Map<String, String> env = new TreeMap<>();
    private final String serverPath;

    JobEnvironment(Map<String, String> server, Iterable<String> hidden) {
        Set<String> hide = new java.util.HashSet<>();
        hidden.forEach(hide::add);
        server.forEach((k, v) -> {
            if (!k.startsWith("OVERSEER_") && !hide.contains(k)) {
                env.put(k, v);
            }
        });
        serverPath = server.getOrDefault("PATH", DEFAULT_PATH);
    }

    JobEnvironment putAll(Map<String, String> values) {
        env.putAll(values);
        return this;
    }

    JobEnvironment put(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** PATH: {@code first} in order, then the server's PATH. */
    JobEnvironment path(List<Path> first) {
        StringBuilder path = new StringBuilder();
        for (Path p : first) {
            path.append(p).append(':');
        }
        env.put("PATH", path + serverPath);
        return this;
    }

    /** {@code NAME=value} entries, as posix_spawn takes them. */
    List<String> entries() {
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }
}
