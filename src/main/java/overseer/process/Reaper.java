package overseer.process;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reaps every child of the server. The server is a child subreaper, so descendants that a job
 * orphaned (a double fork, {@code setsid}) become its children too; they are reaped here as they
 * end and never pile up as zombies. This process must own all its children: nothing else in it
 * may use {@link ProcessBuilder}, whose exit codes this reaper would take.
 *
 * <p>There is one per JVM, by nature: {@code waitpid(-1)} reaps for the whole process, so two
 * reapers would take each other's children.
 */
final class Reaper {
    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spawned = lock.newCondition();
    private final Map<Integer, Child> waiting = new HashMap<>();
    /** Counts spawns, so that the reaper sees one that happened after its waitpid found no child. */
    private long spawns;

    private static Reaper instance;

    /** The reaper of this process if one was started: without it, this process has spawned nothing. */
    static synchronized java.util.Optional<Reaper> existing() {
        return java.util.Optional.ofNullable(instance);
    }

    /** The reaper of this process, started on first use. */
    static synchronized Reaper instance() throws Libc.Failure {
        if (instance == null) {
            instance = new Reaper();
        }
        return instance;
    }

    private Reaper() throws Libc.Failure {
        Libc.becomeSubreaper();
        // A platform thread: waitpid blocks in native code, which would pin a virtual thread's carrier.
        Thread.ofPlatform().daemon().name("reaper").start(this::loop);
    }

    /** A process spawned by {@code spawn}, whose exit is reported through the returned future. */
    interface Spawn {
        int run() throws Libc.Failure;
    }

    record Child(int pid, CompletableFuture<ExitStatus> exit, ProcessGroup group) {}

    /** The group led by {@code pgid}, a child of ours whose leader has not been reaped yet. */
    java.util.Optional<ProcessGroup> group(long pgid) {
        lock.lock();
        try {
            return java.util.Optional.ofNullable(waiting.get((int) pgid)).map(Child::group);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code spawn} under the lock the reaper takes before it looks a pid up, so a child that
     * ends at once is never reaped before its future exists.
     */
    Child spawn(Spawn spawn) throws Libc.Failure {
        lock.lock();
        try {
            int pid = spawn.run();
            Child child = new Child(pid, new CompletableFuture<>(), new ProcessGroup(pid));
            waiting.put(pid, child);
            spawns++;
            spawned.signalAll();
            return child;
        } finally {
            lock.unlock();
        }
    }

    private long spawnCount() {
        lock.lock();
        try {
            return spawns;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Finds an ended child without reaping it, so that a group it leads keeps its id until the
     * group has been dealt with ({@link ProcessGroup#leaderEnded}), then reaps it.
     */
    private void loop() {
        while (true) {
            long seen = spawnCount();
            int pid;
            try {
                pid = Libc.awaitAnyExit();
            } catch (Libc.Failure e) {
                if (e.errno == Libc.ECHILD) {
                    idle(seen);
                } else if (e.errno != Libc.EINTR) {
                    log.warn("reaper: {}", e.getMessage());
                    idle(seen);
                }
                continue;
            }
            Child child;
            lock.lock();
            try {
                child = waiting.remove(pid);
            } finally {
                lock.unlock();
            }
            try {
                if (child != null) {
                    Libc.Reaped reaped = child.group().leaderEnded(Libc::kill, () -> Libc.reap(pid));
                    child.exit().complete(ExitStatus.of(reaped.status()));
                } else {
                    Libc.reap(pid);
                    log.debug("reaper: reaped orphaned process {}", pid);
                }
            } catch (Libc.Failure e) {
                log.warn("reaper: cannot reap {}: {}", pid, e.getMessage());
            }
        }
    }

    /**
     * No children: wait for a spawn, or a short while, since an orphan re-parented to us arrives
     * without notice.
     */
    private void idle(long seen) {
        lock.lock();
        try {
            if (spawns == seen) {
                spawned.await(200, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }
}
