package overseer.store;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Where an execution is in its life. The allowed moves are written down here, in one place:
 * QUEUED → STARTING → RUNNING → ENDING → DONE, QUEUED → CANCELLED, and STARTING → QUEUED (nothing
 * was spawned: shutdown came first). STARTING is recorded before
 * the process is spawned, so a crash between the spawn and the {@code start} event is noticed.
 * ENDING (the process has exited, its output is draining) lives in memory only: until DONE is
 * recorded the row says RUNNING, and an execution that never reached DONE is {@code lost}.
 */
public enum ExecutionState {
    QUEUED,
    STARTING,
    RUNNING,
    ENDING,
    DONE,
    CANCELLED;

    /** The states this one may move to. */
    public Set<ExecutionState> next() {
        return switch (this) {
            case QUEUED -> EnumSet.of(STARTING, CANCELLED);
            // DONE straight from STARTING when the process could not be started; from RUNNING
            // when a restart finds it lost. Back to QUEUED when shutdown came before its run began.
            case STARTING -> EnumSet.of(RUNNING, DONE, QUEUED);
            case RUNNING -> EnumSet.of(ENDING, DONE);
            case ENDING -> EnumSet.of(DONE);
            case DONE, CANCELLED -> EnumSet.noneOf(ExecutionState.class);
        };
    }

    public boolean canMoveTo(ExecutionState to) {
        return next().contains(to);
    }

    /** DONE and CANCELLED: nothing happens to the execution any more. */
    public boolean terminal() {
        return next().isEmpty();
    }

    /** The value in the store's {@code state} column. */
    public String column() {
        return name().toLowerCase(Locale.ROOT);
    }

    static ExecutionState ofColumn(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
