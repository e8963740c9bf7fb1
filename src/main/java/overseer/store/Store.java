package overseer.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Everything Overseer keeps across restarts. Every method that writes returns only after the
 * write is durable, so an API response sent after it never acknowledges something a crash could
 * lose. Implementations are thread-safe.
 */
public interface Store extends AutoCloseable {
    /** How long an {@code Idempotency-Key} answers with the execution it first created. */
    java.time.Duration IDEMPOTENCY_WINDOW = java.time.Duration.ofHours(24);

    /** The execution a trigger created, or the earlier one its idempotency key points at. */
    record Created(Execution execution, boolean existing) {}

    /** Records a new {@code queued} execution, numbered after the job's last one. */
    Created create(NewExecution execution, Event queued);

    Optional<Execution> execution(String job, long number);

    List<Execution> executions(String job, ExecutionQuery query);

    /** The most recent execution of each job that has one. */
    Map<String, Execution> latest();

    /** Executions not finished: queued or running, oldest first. */
    List<Execution> unfinished();

    void started(String job, long number, long pid, Event start);

    /** Appends an event; it becomes the execution's status. */
    void event(String job, long number, Event event);

    /** Appends the final event and marks the execution finished. */
    void finished(String job, long number, OptionalInt exitCode, Event last);

    List<Event> events(String job, long number);

    Optional<Event> latestEvent(String job, long number, String name);

    Set<String> disabledJobs();

    void setEnabled(String job, boolean enabled, Instant at);

    @Override
    void close();
}
