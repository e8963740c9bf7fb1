package overseer.store;

import java.util.List;
import java.util.Optional;

/** What a server registers as its node: a random id per start (never the host name), and what other nodes may read of it. */
public record NodeRegistration(String id, Optional<String> url, String version, List<String> labels, String host) {
    public NodeRegistration {
        labels = List.copyOf(labels);
    }
}
