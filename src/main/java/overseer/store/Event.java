package overseer.store;

import java.time.Instant;
import java.util.Optional;

/** Something that happened to an execution; its name becomes the execution's status. */
public record Event(String name, Optional<String> cause, Instant at, String source) {
    public static Event of(String name, String cause, Instant at, String source) {
        return new Event(name, Optional.ofNullable(cause), at, source);
    }
}
