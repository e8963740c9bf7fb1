package overseer.job;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * A webhook receiver: where to send which events. The secret is never in the repository: only the
 * name of the server environment variable that holds it. {@code file} and {@code position} say
 * where it was declared (the {@code secret} entry when there is one), for warnings about it.
 */
public record HookSpec(URI url, List<String> events, Optional<String> secretVariable, String file, Position position) {
    public HookSpec {
        events = List.copyOf(events);
    }

    /** Whether this hook wants events of this name. */
    public boolean wants(String event) {
        return events.contains("*") || events.contains(event);
    }

    /** Where it was declared, as {@code file:line:col}. */
    public String origin() {
        return file + ":" + position.line() + ":" + position.column();
    }
}
