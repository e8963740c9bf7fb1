package overseer.execution;

/** A trigger or signal the engine will not carry out, and why. */
public final class Refused extends Exception {
    public enum Reason {
        UNKNOWN_JOB,
        UNKNOWN_EXECUTION,
        NO_CONFIGURATION,
        DISABLED,
        CONCURRENCY_REACHED,
        QUEUE_FULL,
        FINISHED,
        NOT_RUNNING,
        CANNOT_RENDER,
        SHUTTING_DOWN,
        TOO_MANY_EVENTS
    }

    private final Reason reason;

    public Refused(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
