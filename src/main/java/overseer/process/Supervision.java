package overseer.process;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a job's process to exit, enforcing its timeout: SIGTERM to everything of the run,
 * then SIGKILL after the kill grace. The same for the server's executions and {@code overseer run}.
 */
public final class Supervision {
    /** How the process ended; {@code timeout} holds the cause when the timeout ended it. */
    public record Outcome(ExitStatus status, Optional<String> timeout) {}

    private final ProcessGroups groups;

    public Supervision(ProcessGroups groups) {
        this.groups = groups;
    }

    public Outcome await(Launcher.Process process, String runId, Optional<Duration> timeout, Duration killGrace)
            throws InterruptedException {
        if (timeout.isEmpty()) {
            return new Outcome(get(process, Optional.empty()).orElseThrow(), Optional.empty());
        }
        Optional<ExitStatus> status = get(process, timeout);
        if (status.isPresent()) {
            return new Outcome(status.get(), Optional.empty());
        }
        long pgid = process.pid();
        String cause = "timed out after " + seconds(timeout.get()) + "; sent SIGTERM";
        groups.signalAll(pgid, runId, ProcessGroups.SIGTERM);
        groups.signalAll(pgid, runId, ProcessGroups.SIGCONT);
        status = get(process, Optional.of(killGrace));
        if (status.isEmpty()) {
            cause += ", then SIGKILL after " + seconds(killGrace);
            groups.killAll(pgid, runId);
            status = get(process, Optional.empty());
        }
        groups.killAll(pgid, runId);
        return new Outcome(status.orElseThrow(), Optional.of(cause));
    }

    /** {@code d} as the causes of ends say it: "10 s", "0.5 s". */
    public static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis / 1000.0 + " s";
    }

    /** The exit status, or empty when {@code limit} passed first. */
    private static Optional<ExitStatus> get(Launcher.Process process, Optional<Duration> limit)
            throws InterruptedException {
        try {
            return Optional.of(
                    limit.isEmpty()
                            ? process.exit().get()
                            : process.exit().get(limit.get().toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
