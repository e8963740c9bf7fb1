package overseer.service;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of the server started so far, each with how it stops: {@link #close()} stops them in
 * the reverse order of {@link #push}, attempting every one whatever the one before it threw, and
 * logs each failure once. Used both for the ordinary shutdown and for a start that fails halfway,
 * so that a failed start leaves no thread and no process behind.
 */
public final class ServiceStack implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServiceStack.class);

    /** How one part stops. */
    @FunctionalInterface
    public interface Stop {
        void stop() throws Exception;
    }

    private record Part(String name, Stop stop) {}

    private final Deque<Part> started = new ArrayDeque<>();

    /** Records that {@code name} is started and is stopped by {@code stop}. */
    public synchronized void push(String name, Stop stop) {
        started.push(new Part(Objects.requireNonNull(name, "name"), Objects.requireNonNull(stop, "stop")));
    }

    /** The names of the parts started, in start order (for tests and logs). */
    public synchronized java.util.List<String> names() {
        return started.reversed().stream().map(Part::name).toList();
    }

    /** Stops every part, newest first; returns how many failed to stop (each logged once). */
    public int stopAll() {
        int failures = 0;
        // An interrupt is kept for the caller, not left to cut short the stops after it.
        boolean interrupted = Thread.interrupted();
        while (true) {
            Part part;
            synchronized (this) {
                part = started.poll();
            }
            if (part == null) {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return failures;
            }
            try {
                part.stop().stop();
            } catch (InterruptedException e) {
                failures++;
                interrupted = true;
                log.error("stop: {}: interrupted", part.name());
            } catch (Exception | Error e) {
                failures++;
                if (log.isDebugEnabled()) {
                    log.error("stop: {}: {}", part.name(), e.toString(), e);
                } else {
                    log.error("stop: {}: {}", part.name(), e.toString());
                }
            }
            interrupted |= Thread.interrupted();
        }
    }

    @Override
    public void close() {
        stopAll();
    }
}
