package overseer.event;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a failed delivery is tried again: after the n-th failed attempt, the n-th delay (the last
 * one repeating), give or take a fifth so that receivers coming back are not hit all at once;
 * never after the delivery expires.
 */
public record RetrySchedule(List<Duration> delays) {
    /** SPEC section 6: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h (until 24 h). */
    public static final RetrySchedule DEFAULT = new RetrySchedule(List.of(
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),
            Duration.ofMinutes(2),
            Duration.ofMinutes(10),
            Duration.ofMinutes(30),
            Duration.ofHours(1),
            Duration.ofHours(2)));

    private static final Pattern DELAY = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?");

    public RetrySchedule {
        if (delays.isEmpty()) {
            throw new IllegalArgumentException("at least one delay");
        }
        delays = List.copyOf(delays);
    }

    /** {@code 5s,30s,2m,…}: numbers with {@code ms}, {@code s} (the default), {@code m} or {@code h}. */
    public static RetrySchedule parse(String text) {
        List<Duration> delays = new ArrayList<>();
        for (String part : text.split(",")) {
            Matcher m = DELAY.matcher(part.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + part.strip() + "' is not a delay such as 500ms, 5s, 2m or 1h");
            }
            double amount = Double.parseDouble(m.group(1));
            long millis = (long) (amount
                    * switch (m.group(2) == null ? "s" : m.group(2)) {
                        case "ms" -> 1;
                        case "m" -> 60_000;
                        case "h" -> 3_600_000;
                        default -> 1000;
                    });
            if (millis <= 0) {
                throw new IllegalArgumentException("delays must be positive, got '" + part.strip() + "'");
            }
            delays.add(Duration.ofMillis(millis));
        }
        return new RetrySchedule(delays);
    }

    /** The next attempt after {@code failedAttempts} failures, the last at {@code now}; empty once past {@code expiresAt}. */
    public Optional<Instant> next(int failedAttempts, Instant now, Instant expiresAt) {
        Duration delay = delays.get(Math.min(failedAttempts, delays.size()) - 1);
        double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        Instant next = now.plusMillis((long) (delay.toMillis() * jitter));
        return next.isAfter(expiresAt) ? Optional.empty() : Optional.of(next);
    }
}
