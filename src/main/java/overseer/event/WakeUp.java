package overseer.event;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A doorbell: rings pile up into one, and a waiter returns at the first ring or at its deadline. */
public final class WakeUp {
    private final Semaphore rings = new Semaphore(0);

    public void ring() {
        if (rings.availablePermits() == 0) {
            rings.release();
        }
    }

    /** Waits up to {@code limit} for a ring; true when one came. */
    boolean await(Duration limit) throws InterruptedException {
        boolean rung = rings.tryAcquire(Math.max(0, limit.toMillis()), TimeUnit.MILLISECONDS);
        rings.drainPermits();
        return rung;
    }
}
