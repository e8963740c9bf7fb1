package overseer.job;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Optional;

/** One scheduled trigger of a job. {@code vars} holds plain data, validated against the job's vars. */
public record ScheduleSpec(
        Frequency frequency,
        Optional<Instant> time,
        int priority,
        ZoneId timezone,
        Map<String, Object> vars,
        Catchup catchup,
        Duration misfireGrace) {
    public static final Duration DEFAULT_MISFIRE_GRACE = Duration.ofHours(1);

    public ScheduleSpec {
        vars = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(vars));
    }

    /**
     * The entry written out in one canonical form (every field, defaults included, vars sorted), so
     * that the same schedule gets the same id whatever its file's formatting or key order.
     */
    public String canonical() {
        return "frequency=" + frequency + "\ntime="
                + time.map(Instant::toString).orElse("") + "\npriority="
                + priority + "\ntimezone=" + timezone.getId() + "\ncatchup=" + catchup + "\nmisfire_grace="
                + misfireGrace.toMillis() + "\nvars=" + new java.util.TreeMap<>(vars);
    }

    /** The first fire strictly after {@code now}. */
    public Optional<Instant> nextRun(Instant now) {
        return frequency
                .nextAfter(now.atZone(timezone), time.map(t -> t.atZone(timezone)))
                .map(ZonedDateTime::toInstant);
    }
}
