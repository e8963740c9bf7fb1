package overseer.job;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * A webhook receiver: where to send which events. The secret is never in the repository: only the
 * name of the server environment variable that holds it.
 */
public record HookSpec(URI url, List<String> events, Optional<String> secretVariable) {
    public HookSpec {
        events = List.copyOf(events);
    }
}
