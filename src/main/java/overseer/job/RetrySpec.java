package overseer.job;

import java.time.Duration;
import java.util.Set;

/**
 * {@code retry}: a failed or timed-out execution runs again, at most {@code times} more times,
 * the k-th retry (from 0) {@code delay × backoff^k} after the previous attempt ended. {@code on}
 * holds the final events that are retried: {@code fail}, {@code time-out}.
 */
public record RetrySpec(int times, Duration delay, double backoff, Set<String> on) {
    public static final Duration DEFAULT_DELAY = Duration.ofSeconds(10);
    public static final double DEFAULT_BACKOFF = 2;
    public static final Set<String> EVENTS = Set.of("fail", "time-out");

    public RetrySpec {
        on = Set.copyOf(on);
    }
}
