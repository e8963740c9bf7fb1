package overseer.store;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * What became of an execution, in the words an operator uses (SPEC §3): stored beside its
 * {@code status}, which stays the latest event (a custom one included). Written by the same
 * statement that records the event changing it, so the two never disagree.
 */
public enum RunState {
    QUEUED,
    RUNNING,
    /** Its process group was stopped ({@code stop}) and not continued since. */
    STOPPED,
    SUCCEEDED,
    FAILED,
    TIMED_OUT,
    /**
     * Ended after a caller's {@code terminate} or {@code kill} (SPEC §3: not the server's own, for
     * {@code overlap: replace} or a shutdown); a kill by the kernel is FAILED.
     */
    KILLED,
    /** Ended before it started: killed while queued, replaced, its job removed or disabled. */
    CANCELLED,
    /** A scheduled fire that was not run (overlap, a full queue, a job it could not prepare). */
    SKIPPED,
    /** The server stopped while it ran or was starting. */
    LOST;

    /** Whether it is the state of an execution that has ended. */
    public boolean ended() {
        return this != QUEUED && this != RUNNING && this != STOPPED;
    }

    /**
     * The state of a row as read: the stored one, unless it is missing or disagrees with the
     * row's lifecycle state about whether the execution has ended (a binary from before the state
     * existed wrote the row or its end, after a rollback), when it is derived again.
     */
    static RunState read(String stored, ExecutionState state, String status) {
        Optional<RunState> found = stored == null ? Optional.empty() : parse(stored);
        return found.filter(s -> s.ended() == state.terminal()).orElseGet(() -> derived(state, status));
    }

    /** The value in the store and the API: lower case, words joined by {@code -}. */
    public String column() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The state named {@code text} as the API writes it, if there is one. */
    public static Optional<RunState> parse(String text) {
        return Arrays.stream(values()).filter(s -> s.column().equals(text)).findFirst();
    }

    /** Every state's name, for an error that lists them. */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(RunState::column).toList());
    }

    /**
     * The state of a row written by an earlier binary, which had no state column: from its
     * lifecycle state and its latest event (a {@code fail} is taken as FAILED, as no event list is
     * read here).
     */
    static RunState derived(ExecutionState state, String status) {
        return switch (state) {
            case QUEUED, STARTING -> QUEUED;
            case RUNNING, ENDING -> status.equals("stop") ? STOPPED : RUNNING;
            case CANCELLED -> status.equals("skipped") ? SKIPPED : CANCELLED;
            case DONE -> atEnd(status);
        };
    }

    /** The state a final event leaves, but for a {@code fail} after a terminate or kill (KILLED: the SQL decides). */
    static RunState atEnd(String last) {
        return switch (last) {
            case "complete" -> SUCCEEDED;
            case "time-out" -> TIMED_OUT;
            case "lost" -> LOST;
            case "skipped" -> SKIPPED;
            default -> FAILED;
        };
    }

    /**
     * The SQL value of the state an execution's end leaves, with one parameter (the final event's
     * name): a {@code fail} before it ever started (a kill kept while it was starting) is CANCELLED,
     * one after a caller's {@code terminate} or {@code kill} recorded for it is KILLED.
     * Used inside an UPDATE of its row, which the events subquery names as {@code executions}.
     */
    static final String AT_END = "CASE ? WHEN 'complete' THEN 'succeeded' WHEN 'time-out' THEN 'timed-out'"
            + " WHEN 'lost' THEN 'lost' WHEN 'skipped' THEN 'skipped' ELSE CASE WHEN executions.started_at IS NULL"
            + " THEN 'cancelled' WHEN EXISTS (SELECT 1 FROM events k"
            + " WHERE k.job = executions.job AND k.number = executions.number AND k.name IN ('terminate', 'kill')"
            + " AND k.source <> 'overseer')"
            + " THEN 'killed' ELSE 'failed' END END";

    /**
     * The SQL value after a {@code stop} or {@code continue} (one parameter: the event's name) to
     * an execution that runs; any other event leaves it as it is.
     */
    static final String AFTER_EVENT = "CASE WHEN state = 'running' AND ? = 'stop' THEN 'stopped'"
            + " WHEN state = 'running' AND ? = 'continue' THEN 'running' ELSE run_state END";
}
