package overseer.execution;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import overseer.job.Overlap;

/**
 * This server's places: the bounded queue, the running slots, and each job's concurrency with
 * its overlap policy. Which queued execution starts next is the store's queue claim's choice
 * (one statement, in the database); a claimed one starts here only when this server has a slot
 * for it. Admission is one atomic step: a trigger takes a {@link Claim} under the
 * lock before its execution is stored, so concurrent triggers see each other whatever the order of
 * their store writes. No store or process work happens under the lock.
 */
final class Admission {
    /** A trigger's place from admission until its execution ends or is cancelled. */
    static final class Claim {
        private final String job;
        private Optional<Unfinished> execution = Optional.empty();
        /** Where the claim is; RELEASED is final, so a late requeue cannot bring it back. */
        private Place place = Place.WAITING;
        /** Chosen to make room by a later trigger of an {@code overlap: replace} job. */
        private boolean superseded;
        /** Superseded before its own trigger had stored it. */
        private boolean supersedeOnAdmit;

        private Claim(String job) {
            this.job = job;
        }
    }

    /** A claim waits (reserved or queued), holds a running slot, or is given up for good. */
    private enum Place {
        WAITING,
        RUNNING,
        RELEASED
    }

    /**
     * What admission decided: the claim, and the admitted executions to end to make room for it
     * ({@code marked} also holds claims still being stored, which end as soon as they are admitted).
     */
    record Admitted(Claim claim, List<Claim> victims, List<Claim> marked) {}

    private final int maxConcurrent;
    private final int maxQueued;
    private final ReentrantLock lock = new ReentrantLock();
    private final TreeSet<Claim> queue = new TreeSet<>(
            Comparator.comparingInt((Claim c) -> -c.execution.orElseThrow().priority())
                    .thenComparing(c -> c.execution.orElseThrow().createdAt())
                    .thenComparing(c -> c.job)
                    .thenComparingLong(c -> c.execution.orElseThrow().number()));
    /** Every claim by job, oldest first: reserved, queued and running. */
    private final Map<String, List<Claim>> claims = new HashMap<>();

    /** Running executions by job, for the concurrency check of each queued one. */
    private final Map<String, Integer> runningByJob = new HashMap<>();

    private int reserved;
    private int running;
    private boolean accepting = true;

    Admission(int maxConcurrent, int maxQueued) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
    }

    /**
     * Takes a place for a new execution of {@code job}, or refuses: while shutting down, when the
     * queue is full, or when the job is at its concurrency with {@code overlap: skip}. With
     * {@code overlap: replace}, the oldest claims over the limit are marked as superseded and
     * returned, to be ended by the caller.
     */
    Admitted reserve(String job, OptionalInt concurrency, Overlap overlap) throws Refused {
        lock.lock();
        try {
            checkRoom();
            List<Claim> ofJob = claims.computeIfAbsent(job, j -> new ArrayList<>());
            List<Claim> victims = new ArrayList<>();
            if (concurrency.isPresent()) {
                int limit = concurrency.getAsInt();
                List<Claim> live = ofJob.stream()
                        .filter(c -> !c.superseded && !c.supersedeOnAdmit)
                        .toList();
                if (live.size() >= limit) {
                    switch (overlap) {
                        case SKIP ->
                            throw new Refused(
                                    Refused.Reason.CONCURRENCY_REACHED,
                                    "job '" + job + "' already has " + live.size()
                                            + " execution(s) and its overlap policy is skip");
                        case REPLACE -> victims.addAll(live.subList(0, live.size() - limit + 1));
                        case QUEUE -> {}
                    }
                }
            }
            Claim claim = new Claim(job);
            for (Claim v : victims) {
                if (v.execution.isEmpty()) {
                    // Its trigger is still storing it: it is cancelled as soon as it is admitted.
                    v.supersedeOnAdmit = true;
                } else {
                    v.superseded = true;
                }
            }
            ofJob.add(claim);
            reserved++;
            return new Admitted(
                    claim, victims.stream().filter(v -> !v.supersedeOnAdmit).toList(), List.copyOf(victims));
        } finally {
            lock.unlock();
        }
    }

    /** Refuses a new place while shutting down or when the queue is full; under {@link #lock}. */
    private void checkRoom() throws Refused {
        if (!accepting) {
            throw new Refused(Refused.Reason.SHUTTING_DOWN, "the server is shutting down");
        }
        if (queue.size() + reserved >= maxQueued) {
            throw new Refused(
                    Refused.Reason.QUEUE_FULL,
                    "the queue holds " + (queue.size() + reserved) + " executions; try again later");
        }
    }

    /**
     * A place for a retry: it counts against the queue, but not against its job's concurrency and
     * overlap policy, which the execution it retries still holds; they apply when it starts.
     */
    Admitted reserveRetry(String job) throws Refused {
        lock.lock();
        try {
            checkRoom();
            Claim claim = new Claim(job);
            claims.computeIfAbsent(job, j -> new ArrayList<>()).add(claim);
            reserved++;
            return new Admitted(claim, List.of(), List.of());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves a claim not stored yet straight to a running slot, when it may start at once: nothing
     * waits in the queue (so no better or older execution is passed over), a slot is free and its
     * job is under its concurrency, and it replaces nothing. Its execution is then stored STARTING,
     * in the one commit that creates it, and {@link #admit} does not queue it. False leaves it
     * reserved, to be queued as usual.
     */
    boolean startAtOnce(Admitted admitted, OptionalInt concurrency) {
        Claim claim = admitted.claim();
        lock.lock();
        try {
            if (!accepting
                    || !queue.isEmpty()
                    || !admitted.marked().isEmpty()
                    || claim.place != Place.WAITING
                    || claim.execution.isPresent()
                    || running >= maxConcurrent
                    || (concurrency.isPresent() && runningOf(claim.job) >= concurrency.getAsInt())) {
                return false;
            }
            reserved--;
            takeSlot(claim);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The claim's execution is stored: it joins the queue, unless it took a running slot at once.
     * Returns false when a later trigger superseded it meanwhile; it is then still claimed, and the
     * caller cancels it.
     */
    boolean admit(Claim claim, Unfinished execution) {
        lock.lock();
        try {
            claim.execution = Optional.of(execution);
            if (claim.place == Place.WAITING) {
                reserved--;
                queue.add(claim);
            }
            return !claim.supersedeOnAdmit;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The trigger failed or found an earlier execution (idempotency): it gives its place back, and
     * the executions it had chosen to replace are no longer chosen.
     */
    void withdraw(Admitted admitted) {
        lock.lock();
        try {
            if (admitted.claim().place == Place.RUNNING) {
                giveSlotBack(admitted.claim());
            } else {
                reserved--;
            }
            admitted.claim().place = Place.RELEASED;
            forget(admitted.claim());
            for (Claim v : admitted.marked()) {
                v.superseded = false;
                v.supersedeOnAdmit = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Puts back a queued execution found in the store after a restart. */
    Claim restore(Unfinished execution) {
        lock.lock();
        try {
            Claim claim = new Claim(execution.job());
            claim.execution = Optional.of(execution);
            claims.computeIfAbsent(execution.job(), j -> new ArrayList<>()).add(claim);
            queue.add(claim);
            return claim;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the claim's execution is stored and waits for a slot (it is queued here). */
    boolean waiting(Claim claim) {
        lock.lock();
        try {
            return claim.place == Place.WAITING && claim.execution.isPresent();
        } finally {
            lock.unlock();
        }
    }

    /** How many more executions may start now: the free running slots, none once shutdown began. */
    int freeSlots() {
        lock.lock();
        try {
            return accepting ? Math.max(0, maxConcurrent - running) : 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A queued claim whose execution the store's queue claim moved to STARTING takes its running
     * slot, when this server has one for it: a slot free and its job under its concurrency here
     * (what a trigger admitted at once holds before its row says so). False leaves it queued, to
     * be given back. {@code anyway}: it takes the slot whatever the limits (a signal saw it
     * STARTING and recorded itself in the row; giving it back would drop that).
     */
    boolean takeClaimed(Claim claim, boolean anyway) {
        lock.lock();
        try {
            if (claim.place != Place.WAITING || claim.execution.isEmpty() || !accepting) {
                return false;
            }
            LaunchSpec spec = claim.execution.get().spec();
            if (!anyway
                    && (running >= maxConcurrent
                            || (spec.concurrency() != null && runningOf(claim.job) >= spec.concurrency()))) {
                return false;
            }
            queue.remove(claim);
            takeSlot(claim);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A place, running at once, for an execution that the store's queue claim found and this
     * server did not hold (its trigger gave up on an answer it never got); empty when no slot is
     * free, its job is at its concurrency here, or shutdown began.
     */
    Optional<Claim> adopt(Unfinished execution) {
        lock.lock();
        try {
            Integer limit = execution.spec().concurrency();
            if (!accepting || running >= maxConcurrent || (limit != null && runningOf(execution.job()) >= limit)) {
                return Optional.empty();
            }
            Claim claim = new Claim(execution.job());
            claim.execution = Optional.of(execution);
            claims.computeIfAbsent(execution.job(), j -> new ArrayList<>()).add(claim);
            takeSlot(claim);
            return Optional.of(claim);
        } finally {
            lock.unlock();
        }
    }

    /** The earliest not-before time after {@code now} of a queued execution (a pending retry's). */
    Optional<java.time.Instant> nextDue(java.time.Instant now) {
        lock.lock();
        try {
            return queue.stream()
                    .map(c -> c.execution.orElseThrow().execution().notBefore())
                    .flatMap(Optional::stream)
                    .filter(now::isBefore)
                    .min(Comparator.naturalOrder());
        } finally {
            lock.unlock();
        }
    }

    /**
     * A claim taken by {@link #takeClaimed} whose start could not be recorded goes back to the
     * queue, its slot free; false when it is not running (it ended meanwhile) or shutdown began.
     */
    boolean requeue(Claim claim) {
        lock.lock();
        try {
            if (claim.place != Place.RUNNING || !accepting) {
                return false;
            }
            giveSlotBack(claim);
            claim.place = Place.WAITING;
            queue.add(claim);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The claim's execution ended (or was cancelled): its place and slot are free. */
    void release(Claim claim) {
        lock.lock();
        try {
            if (claim.place == Place.RUNNING) {
                giveSlotBack(claim);
            }
            claim.place = Place.RELEASED;
            queue.remove(claim);
            forget(claim);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the claim holds a running slot while starting is allowed (shutdown did not begin). */
    boolean mayRun(Claim claim) {
        lock.lock();
        try {
            return claim.place == Place.RUNNING && accepting;
        } finally {
            lock.unlock();
        }
    }

    /** Stops admitting and starting; what is queued stays queued. */
    void close() {
        lock.lock();
        try {
            accepting = false;
        } finally {
            lock.unlock();
        }
    }

    /** Every execution that holds a running slot. */
    List<Unfinished> running() {
        return select(c -> c.place == Place.RUNNING);
    }

    /** The unfinished (queued or running) executions of {@code job}, oldest first. */
    List<Unfinished> unfinished(String job) {
        lock.lock();
        try {
            return claims.getOrDefault(job, List.of()).stream()
                    .filter(c -> c.execution.isPresent())
                    .map(c -> c.execution.get())
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    /** Every queued execution. */
    List<Unfinished> queued() {
        return select(c -> c.place == Place.WAITING);
    }

    int queueLength() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    static Unfinished execution(Claim claim) {
        return claim.execution.orElseThrow();
    }

    private List<Unfinished> select(java.util.function.Predicate<Claim> which) {
        lock.lock();
        try {
            return claims.values().stream()
                    .flatMap(List::stream)
                    .filter(c -> c.execution.isPresent() && which.test(c))
                    .map(c -> c.execution.get())
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    /** Counts the claim in a running slot; under {@link #lock}. */
    private void takeSlot(Claim claim) {
        claim.place = Place.RUNNING;
        running++;
        runningByJob.merge(claim.job, 1, Integer::sum);
    }

    /** Frees the running slot the claim holds; under {@link #lock}. */
    private void giveSlotBack(Claim claim) {
        running--;
        runningByJob.computeIfPresent(claim.job, (job, n) -> n == 1 ? null : n - 1);
    }

    private int runningOf(String job) {
        return runningByJob.getOrDefault(job, 0);
    }

    private void forget(Claim claim) {
        List<Claim> ofJob = claims.get(claim.job);
        if (ofJob != null) {
            ofJob.remove(claim);
            if (ofJob.isEmpty()) {
                claims.remove(claim.job);
            }
        }
    }
}
