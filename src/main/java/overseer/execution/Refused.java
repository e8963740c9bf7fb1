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

    /** What the store's admission refused, as a trigger's answer says it. */
    static Refused of(String job, overseer.store.Store.Refusal refusal) {
        return switch (refusal.kind()) {
            case QUEUE_FULL ->
                new Refused(Reason.QUEUE_FULL, "the queue holds " + refusal.queued() + " executions; try again later");
            case AT_LIMIT ->
                new Refused(
                        Reason.CONCURRENCY_REACHED,
                        "job '" + job + "' already has " + refusal.holders().size()
                                + " execution(s) and its overlap policy is skip");
        };
    }

    public Reason reason() {
        return reason;
    }
}
