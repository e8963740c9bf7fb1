package overseer.service;

import java.time.Duration;

/**
 * A background part of the server (poller, scheduler, retention, webhook dispatcher, …): one round
 * of work at a time, run by a {@link Supervisor} that owns the thread, the waiting and the error
 * policy. A round that throws anything is counted, logged and retried with backoff by the
 * supervisor; the service itself catches nothing it cannot handle better than that.
 */
public interface BackgroundService {
    /** A constant word naming it in logs, metrics and {@code /ready}, such as {@code "scheduler"}. */
    String name();

    /**
     * Does one round of work and returns how long to wait before the next one (a {@link
     * Supervisor.Handle#wake()} cuts the wait short). Throws when the round failed.
     */
    Duration runOnce() throws Exception;

    /**
     * The longest a failed round waits before the next try, when it must be shorter than the
     * supervisor's: a round that guards a lease cannot back off past it.
     */
    default java.util.Optional<Duration> maxBackoff() {
        return java.util.Optional.empty();
    }
}
