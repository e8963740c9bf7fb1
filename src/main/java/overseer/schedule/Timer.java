package overseer.schedule;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** How the scheduler waits for its next fire: a sleep that {@link #wake()} cuts short. */
public interface Timer {
    /** Waits up to {@code limit}, or until woken. */
    void await(Duration limit) throws InterruptedException;

    void wake();

    /** Real time: a semaphore wait, so a wake-up is never lost between two waits. */
    static Timer sleeping() {
        Semaphore wakeups = new Semaphore(0);
        return new Timer() {
            @Override
            public void await(Duration limit) throws InterruptedException {
                if (wakeups.tryAcquire(Math.max(0, limit.toMillis()), TimeUnit.MILLISECONDS)) {
                    wakeups.drainPermits();
                }
            }

            @Override
            public void wake() {
                wakeups.release();
            }
        };
    }
}
