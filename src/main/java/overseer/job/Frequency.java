package overseer.job;

import com.cronutils.model.Cron;
import com.cronutils.model.time.ExecutionTime;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Optional;

/** How often a schedule fires: a cron expression or a fixed period. */
public sealed interface Frequency {
    /** The next fire strictly after {@code after}, if there is one. */
    Optional<ZonedDateTime> nextAfter(ZonedDateTime after, Optional<ZonedDateTime> first);

    record CronExpression(String expression, Cron cron) implements Frequency {
        @Override
        public Optional<ZonedDateTime> nextAfter(ZonedDateTime after, Optional<ZonedDateTime> first) {
            ZonedDateTime from = first.filter(f -> f.isAfter(after))
                    .map(f -> f.minusNanos(1))
                    .orElse(after);
            return ExecutionTime.forCron(cron).nextExecution(from);
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
