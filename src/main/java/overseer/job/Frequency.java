package overseer.job;

import com.cronutils.model.Cron;
import com.cronutils.model.time.ExecutionTime;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

/** How often a schedule fires: a cron expression or a fixed period. */
public sealed interface Frequency {
    /** The next fire strictly after {@code after}, if there is one. */
    Optional<ZonedDateTime> nextAfter(ZonedDateTime after, Optional<ZonedDateTime> first);

    /**
     * A cron expression, read on the wall clock of the schedule's time zone: it is evaluated on
     * local date-times (as in UTC, which has no daylight saving) and each result is placed in the
     * zone. A local time that the spring-forward gap skips fires as far after the gap as it was
     * into it (02:30 becomes 03:30 when clocks jump from 02:00 to 03:00); one that the fall-back
     * hour repeats fires once, at its first occurrence.
     */
    record CronExpression(String expression, Cron cron) implements Frequency {
        private static final int MAX_STEPS = 10_000;

        @Override
        public Optional<ZonedDateTime> nextAfter(ZonedDateTime after, Optional<ZonedDateTime> first) {
            ZonedDateTime from = first.filter(f -> f.isAfter(after))
                    .map(f -> f.minusNanos(1))
                    .orElse(after);
            ZoneId zone = from.getZone();
            ExecutionTime times = ExecutionTime.forCron(cron);
            // Cron counts whole seconds: from a fraction of one, the next fire would keep the
            // fraction and each fire would drift by the scheduler's lateness.
            LocalDateTime wall = from.toLocalDateTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            for (int step = 0; step < MAX_STEPS; step++) {
                Optional<ZonedDateTime> next = times.nextExecution(wall.atZone(ZoneOffset.UTC));
                if (next.isEmpty()) {
                    return Optional.empty();
                }
                LocalDateTime nextWall = next.get().toLocalDateTime();
                ZonedDateTime placed = ZonedDateTime.ofLocal(nextWall, zone, null);
                // In a repeated hour the wall clock runs again over times already placed.
                if (placed.toInstant().isAfter(from.toInstant())) {
                    return Optional.of(placed);
                }
                wall = nextWall;
            }
            return Optional.empty();
        }

        @Override
        public String toString() {
            return expression;
        }
    }

    record Period(Duration every) implements Frequency {
        public Period {
            if (every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("period must be positive: " + every);
            }
        }

        @Override
        public Optional<ZonedDateTime> nextAfter(ZonedDateTime after, Optional<ZonedDateTime> first) {
            ZonedDateTime origin = first.orElse(after.withNano(0));
            if (origin.isAfter(after)) {
                return Optional.of(origin);
            }
            long periodMillis = every.toMillis();
            long elapsed = Duration.between(origin, after).toMillis();
            long steps = elapsed / periodMillis + 1;
            return Optional.of(origin.plus(every.multipliedBy(steps)));
        }

        @Override
        public String toString() {
            return every.toMillis() % 1000 == 0 ? Long.toString(every.toSeconds()) : every.toString();
        }
    }
}
