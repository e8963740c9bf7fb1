package overseer.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.metrics.Metrics;

/**
 * Runs {@link BackgroundService}s, each on its own virtual thread, with the server's one error
 * policy: anything thrown by a round is caught; the first failure of a kind is logged once, a run
 * of the same failure then at most every {@link Settings#remindEvery()} as "still failing (N)",
 * and the recovery as one line; failures are counted in {@code /metrics}; the next round waits a
 * capped, jittered, doubling backoff. A service that has failed {@link Settings#unreadyAfter()}
 * times in a row, or for longer than {@link Settings#unreadyFor()}, is named by {@link #problems()}
 * (which {@code /ready} reports) until a round succeeds.
 */
public final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    /** The error policy's numbers. */
    public record Settings(
            Duration firstBackoff, Duration maxBackoff, int unreadyAfter, Duration unreadyFor, Duration remindEvery) {
        public Settings {
            Objects.requireNonNull(firstBackoff, "firstBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            Objects.requireNonNull(unreadyFor, "unreadyFor");
            Objects.requireNonNull(remindEvery, "remindEvery");
            if (firstBackoff.isNegative() || firstBackoff.isZero() || maxBackoff.compareTo(firstBackoff) < 0) {
                throw new IllegalArgumentException("backoff must be positive and maxBackoff >= firstBackoff");
            }
            if (unreadyAfter < 1) {
                throw new IllegalArgumentException("unreadyAfter < 1: " + unreadyAfter);
            }
        }

        /** Backoff from 1 s doubling to 30 s; unready after 3 failures in a row or 30 s of failing. */
        public static final Settings DEFAULT = new Settings(
                Duration.ofSeconds(1), Duration.ofSeconds(30), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));
    }

    private final Settings settings;
    private final Metrics metrics;
    private final LongSupplier nanoTime;
    private final Map<String, Handle> running = new ConcurrentHashMap<>();

    public Supervisor(Settings settings, Metrics metrics) {
        this(settings, metrics, System::nanoTime);
    }

    Supervisor(Settings settings, Metrics metrics, LongSupplier nanoTime) {
        this.settings = settings;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
    }

    /** Starts running {@code service} at once; its name must be unique among those running here. */
    public Handle start(BackgroundService service) {
        Handle handle = new Handle(service);
        if (running.putIfAbsent(service.name(), handle) != null) {
            throw new IllegalStateException("a service named " + service.name() + " is already running");
        }
        metrics.gauge(
                "overseer_service_failing",
                "1 while the background service's latest round failed",
                java.util.List.of(Map.entry("service", service.name())),
                () -> handle.consecutive > 0 ? 1 : 0);
        handle.thread = Thread.ofVirtual().name(service.name()).start(handle::loop);
        return handle;
    }

    /** One line per service that is failing past the policy's limits, naming it (never the exception). */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        long now = nanoTime.getAsLong();
        for (Handle h : running.values()) {
            h.problem(now).ifPresent(out::add);
        }
        out.sort(null);
        return out;
    }

    /** A running service: wake it, or stop it. */
    public final class Handle implements AutoCloseable {
        private final BackgroundService service;
        private final Semaphore bell = new Semaphore(0);
        private volatile Thread thread;
        private volatile int consecutive;
        private volatile long failingSinceNanos;
        private volatile boolean closed;
        // Touched only by the service's own thread.
        private String lastKind = "";
        private long lastLoggedNanos;

        private Handle(BackgroundService service) {
            this.service = service;
        }

        /** Cuts the current wait short: the next round starts now (rings pile up into one). */
        public void wake() {
            if (bell.availablePermits() == 0) {
                bell.release();
            }
        }

        /** How many rounds in a row have failed (0 when the latest succeeded). */
        public int consecutiveFailures() {
            return consecutive;
        }

        private java.util.Optional<String> problem(long now) {
            int n = consecutive;
            if (n == 0) {
                return java.util.Optional.empty();
            }
            if (n >= settings.unreadyAfter()
                    || now - failingSinceNanos >= settings.unreadyFor().toNanos()) {
                return java.util.Optional.of(service.name() + " is failing (" + n + " attempts in a row)");
            }
            return java.util.Optional.empty();
        }

        private void loop() {
            Duration backoff = settings.firstBackoff();
            while (!closed) {
                Duration wait;
                try {
                    wait = service.runOnce();
                    recovered();
                    backoff = settings.firstBackoff();
                } catch (InterruptedException e) {
                    if (closed) {
                        return;
                    }
                    wait = failed(e, capped(backoff));
                    backoff = doubled(backoff);
                } catch (Throwable t) {
                    if (closed) {
                        // Stopping interrupted the round; what that made it throw is no failure.
                        return;
                    }
                    wait = failed(t, capped(backoff));
                    backoff = doubled(backoff);
                }
                try {
                    if (bell.tryAcquire(Math.max(0, wait.toNanos()), TimeUnit.NANOSECONDS)) {
                        bell.drainPermits();
                    }
                } catch (InterruptedException e) {
                    if (closed) {
                        return;
                    }
                }
            }
        }

        private Duration doubled(Duration backoff) {
            Duration next = backoff.multipliedBy(2);
            return capped(next.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : next);
        }

        private Duration capped(Duration backoff) {
            return service.maxBackoff()
                    .filter(cap -> cap.compareTo(backoff) < 0)
                    .orElse(backoff);
        }

        private Duration failed(Throwable t, Duration backoff) {
            long now = nanoTime.getAsLong();
            if (consecutive == 0) {
                failingSinceNanos = now;
            }
            consecutive++;
            metrics.serviceFailure(service.name());
            String kind = t.getClass().getName() + ": " + t.getMessage();
            if (!kind.equals(lastKind)) {
                lastKind = kind;
                lastLoggedNanos = now;
                if (log.isDebugEnabled()) {
                    log.error("{}: {}", service.name(), describe(t), t);
                } else {
                    log.error("{}: {}", service.name(), describe(t));
                }
            } else if (now - lastLoggedNanos >= settings.remindEvery().toNanos()) {
                lastLoggedNanos = now;
                log.error("{}: still failing ({}): {}", service.name(), consecutive, describe(t));
            }
            // Jitter of up to a quarter, so that services failing together do not retry in step.
            long nanos = backoff.toNanos();
            return Duration.ofNanos(nanos - ThreadLocalRandom.current().nextLong(nanos / 4 + 1));
        }

        private void recovered() {
            if (consecutive > 0) {
                log.info("{}: recovered after {} failed attempt(s)", service.name(), consecutive);
                consecutive = 0;
                lastKind = "";
            }
        }

        /** Stops the service: the round in progress is interrupted and waited for a little. */
        @Override
        public void close() {
            closed = true;
            running.remove(service.name(), this);
            Thread t = thread;
            if (t != null) {
                t.interrupt();
                try {
                    t.join(Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }
}
