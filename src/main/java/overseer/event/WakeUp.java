package overseer.event;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A doorbell for the webhook dispatcher, made before the dispatcher runs (the outbox rings it
 * from the store's transactions): rings before {@link #connect} are kept and passed on then.
 */
public final class WakeUp {
    private final AtomicBoolean rang = new AtomicBoolean();
    private volatile Runnable bell = () -> {};

    /** Only signals: it may be called inside a store transaction. */
    public void ring() {
        rang.set(true);
        bell.run();
    }

    /** From now on a ring runs {@code bell}; a ring that came before runs it now. */
    void connect(Runnable bell) {
        this.bell = bell;
        if (rang.get()) {
            bell.run();
        }
    }

    /** Whether it rang since the last call. */
    boolean rang() {
        return rang.getAndSet(false);
    }
}
