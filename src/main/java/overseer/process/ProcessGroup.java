package overseer.process;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The process group of a spawned process (its pid is the group's id), addressable by that id only
 * while its leader is not reaped: until then the kernel cannot give the id to another group.
 * The reaper moves it to {@link State#LEADER_REAPED} under the same lock a signal takes, so no
 * {@code kill(-pgid)} can reach a group that may since be someone else's.
 */
final class ProcessGroup {
    /** Whether the group's id is still surely this group's. */
    enum State {
        /** The leader runs, or is a zombie: the id is held. */
        LEADER_UNREAPED,
        /** The leader was reaped: the id may belong to a new group; never signal it again. */
        LEADER_REAPED
    }

    /** What became of a signal to the group. */
    enum Delivery {
        SENT,
        /** The group is gone, or its leader was reaped and its id may be reused: nothing was sent. */
        GONE,
        /** {@code EPERM}: no member of the group may be signalled by us. */
        REFUSED
    }

    /** {@code kill(2)}: a seam, so that a test can make it fail as a foreign process would. */
    @FunctionalInterface
    interface Kill {
        void send(long pid, int signal) throws Libc.Failure;
    }

    /** Takes the ended leader's exit status ({@code waitpid}). */
    @FunctionalInterface
    interface Reap {
        Libc.Reaped run() throws Libc.Failure;
    }

    private final long id;
    private final ReentrantLock lock = new ReentrantLock();
    private State state = State.LEADER_UNREAPED;
    private final AtomicBoolean refusalLogged = new AtomicBoolean();

    ProcessGroup(long id) {
        this.id = id;
    }

    long id() {
        return id;
    }

    State state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** Sends {@code signal} to the group while its id is surely its own. */
    Delivery signal(Kill kill, int signal) {
        lock.lock();
        try {
            if (state == State.LEADER_REAPED) {
                return Delivery.GONE;
            }
            kill.send(-id, signal);
            return Delivery.SENT;
        } catch (Libc.Failure e) {
            return switch (e.errno) {
                case Libc.ESRCH -> Delivery.GONE;
                case Libc.EPERM -> Delivery.REFUSED;
                default -> throw new IllegalStateException("kill(-" + id + "): " + e.getMessage());
            };
        } finally {
            lock.unlock();
        }
    }

    /**
     * The leader has ended and is still a zombie, so the id is still held: whatever is left in
     * the group is killed, then the leader is reaped and the group is never signalled again.
     */
    Libc.Reaped leaderEnded(Kill kill, Reap reap) throws Libc.Failure {
        lock.lock();
        try {
            try {
                kill.send(-id, Libc.SIGKILL);
            } catch (Libc.Failure e) {
                // Only the zombie leader was left, or what is left is not ours to kill.
            }
            state = State.LEADER_REAPED;
            return reap.run();
        } finally {
            lock.unlock();
        }
    }

    /** True the first time only: a refused signal is logged once per group, not once per try. */
    boolean firstRefusal() {
        return refusalLogged.compareAndSet(false, true);
    }
}
