package overseer.execution;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A job's {@code env} values written as {@code ${NAME}}: read from the server's environment when
 * the execution starts, never stored, and masked as {@code ***} in its output, so repositories
 * never hold credentials.
 */
public final class ServerSecrets {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    /** The environment with references resolved, and the values to mask. */
    record Resolved(Map<String, String> env, List<String> masked) {}

    private ServerSecrets() {}

    /** The variable a value refers to, if it is a reference. */
    static Optional<String> reference(String value) {
        Matcher m = REFERENCE.matcher(value);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Resolves every reference in {@code env}; a missing variable is an {@link IllegalStateException} naming it. */
    static Resolved resolve(Map<String, String> env, Map<String, String> server) {
        Map<String, String> resolved = new LinkedHashMap<>();
        List<String> masked = new ArrayList<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            Optional<String> variable = reference(e.getValue());
            if (variable.isEmpty()) {
                resolved.put(e.getKey(), e.getValue());
                continue;
            }
            String value = server.get(variable.get());
            if (value == null) {
                throw new IllegalStateException(
                        "env " + e.getKey() + ": the server environment variable " + variable.get() + " is not set");
            }
            resolved.put(e.getKey(), value);
            if (!value.isEmpty()) {
                masked.add(value);
            }
        }
        return new Resolved(resolved, masked);
    }

    /**
     * Warnings for the active configuration: each {@code ${NAME}} a job's env reads that the
     * server's environment does not have. Such a job is still served; its executions fail with the
     * same message until the variable is set.
     */
    public static List<overseer.job.Problem> warnings(
            Optional<overseer.config.Snapshot> snapshot, Map<String, String> server) {
        List<overseer.job.Problem> warnings = new ArrayList<>();
        snapshot.ifPresent(s -> s.jobs()
                .values()
                .forEach(job -> job.envReferences().forEach(r -> {
                    if (!server.containsKey(r.variable())) {
                        warnings.add(overseer.job.Problem.at(
                                job.file(),
                                r.position(),
                                "env " + r.key() + ": the server environment variable " + r.variable()
                                        + " is not set; executions of "
                                        + job.name().value() + " fail until it is"));
                    }
                })));
        return warnings;
    }
}
