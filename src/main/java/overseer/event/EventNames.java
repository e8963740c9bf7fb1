package overseer.event;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Which names a caller or a job may give an event (SPEC section 5). */
public final class EventNames {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    /** Route words, and the names only Overseer itself records. */
    private static final Set<String> RESERVED = Set.of(
            "stdout",
            "stderr",
            "output",
            "executions",
            "events",
            "queued",
            "start",
            "complete",
            "fail",
            "time-out",
            "lost",
            "skipped");

    private EventNames() {}

    /** Throws {@link IllegalArgumentException} naming the rule when {@code name} may not be given. */
    public static void check(String name) {
        if (!NAME.matcher(name).matches() || RESERVED.contains(name)) {
            throw new IllegalArgumentException("event name '" + name + "' must match " + NAME.pattern()
                    + " and not be one of " + new TreeSet<>(RESERVED));
        }
    }
}
