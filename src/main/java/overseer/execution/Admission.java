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
import overseer.store.ExecutionState;

/**
 * This server's places: its running slots and each job's count of them, and the executions it
 * holds, queued or running. What the rules decide is the store's: the queue's bound and a job's
 * concurrency with its overlap policy are checked in the transaction that creates an execution
 * (against what every server stored), and which queued execution starts next is the queue's
 * claim (one statement, in the database); a claimed one starts here only when this server has a
 * slot for it. No store or process work happens under the lock.
 */
final class Admission {
    /** A trigger's place from admission until its execution ends or is cancelled. */
    static final class Claim {
        private final String job;
        private Optional<Unfinished> execution = Optional.empty();
        /** Where the claim is; RELEASED is final, so a late requeue cannot bring it back. */
        private Place place = Place.WAITING;

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
     * What became of an execution a later trigger chose to replace ({@code overlap: replace}):
     * its row was cancelled by that trigger's transaction, or it is starting or running and must
     * be killed.
     */
    enum Replacement {
        CANCELLED_IN_STORE,
        TO_KILL
    }

    /**
     * Executions a later trigger replaced before their own trigger handed them over (job/number);
     * each is ended as soon as it is admitted. Bounded: one that never comes (its trigger
     * failed) must not keep its entry for ever.
     */
    private final Map<String, Replacement> replacedEarly = new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Replacement> eldest) {
            return size() > 1_000;
        }
    };

    private final int maxConcurrent;
    private final int maxQueued;
    private final ReentrantLock lock = new ReentrantLock();
    private final TreeSet<Claim> queue = new TreeSet<>(
            Comparator.comparingInt((Claim c) -> -c.execution.orElseThrow().priority())
                    .thenComparing(c -> c.execution.orElseThrow().createdAt())
                    .thenComparing(c -> c.job)
                    .thenComparingLong(c -> c.execution.orElseThrow().number()));
    /** Every claim by job, oldest first: being stored, queued and running. */
    private final Map<String, List<Claim>> claims = new HashMap<>();

    /** Running executions by job, for the concurrency check of each queued one. */
    private final Map<String, Integer> runningByJob = new HashMap<>();

    private int running;
    /** Set while this node cannot be sure it holds its lease. */
    private boolean fenced;

    private boolean accepting = true;

    Admission(int maxConcurrent, int maxQueued) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
    }

    /** The queue's bound, checked by the store when an execution is created. */
    int maxQueued() {
        return maxQueued;
    }

    /**
     * A place for a new execution of {@code job} (a trigger's or a retry's) while it is stored;
     * refused only while shutting down. The rules are the store's, checked as it is created.
     */
    Claim reserve(String job) throws Refused {
        lock.lock();
        try {
            if (!accepting) {
                throw new Refused(Refused.Reason.SHUTTING_DOWN, "the server is shutting down");
            }
            Claim claim = new Claim(job);
            claims.computeIfAbsent(job, j -> new ArrayList<>()).add(claim);
            return claim;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Holds a running slot for a claim not stored yet, when its execution may be able to start
     * at once: nothing waits in this server's queue (so no better or older execution is passed
     * over), a slot is free and its job is under its concurrency here. The store then records
     * it STARTING if what it holds agrees (nothing queued, nothing replaced, the job under its
     * limit), and {@link #admit} gives the slot back if it did not. False: it will be queued.
     */
    boolean holdSlot(Claim claim, OptionalInt concurrency) {
        lock.lock();
        try {
            if (!accepting
                    || fenced
                    || !queue.isEmpty()
                    || claim.place != Place.WAITING
                    || claim.execution.isPresent()
                    || running >= maxConcurrent
                    || (concurrency.isPresent() && runningOf(claim.job) >= concurrency.getAsInt())) {
                return false;
            }
            takeSlot(claim);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The claim's execution is stored: recorded STARTING, it keeps the slot it held; queued, it
     * gives that slot back and joins the queue. Says how a later trigger replaced it meanwhile,
     * if one did; it is then still claimed, and the caller ends it.
     */
    Optional<Replacement> admit(Claim claim, Unfinished execution) {
        lock.lock();
        try {
            claim.execution = Optional.of(execution);
            if (claim.place == Place.RUNNING && execution.execution().state() != ExecutionState.STARTING) {
                giveSlotBack(claim);
                claim.place = Place.WAITING;
            }
            if (claim.place == Place.WAITING) {
                queue.add(claim);
            }
            return Optional.ofNullable(replacedEarly.remove(execution.key()));
        } finally {
            lock.unlock();
        }
    }

    /**
     * The executions of {@code job} numbered {@code numbers} that a new one replaces, as this
     * server holds them; one whose trigger has not handed it over yet is ended when it does.
     */
    List<Claim> replaced(String job, List<Long> numbers, Replacement how) {
        lock.lock();
        try {
            List<Claim> found = new ArrayList<>();
            for (long n : numbers) {
                Optional<Claim> held = claims.getOrDefault(job, List.of()).stream()
                        .filter(c -> c.place != Place.RELEASED
                                && c.execution.isPresent()
                                && c.execution.get().number() == n)
                        .findFirst();
                if (held.isPresent()) {
                    found.add(held.get());
                } else {
                    replacedEarly.put(job + "/" + n, how);
                }
            }
            return found;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a later trigger chose to replace this execution, starting or running, before this
     * server held it (a claimed row nobody here held).
     */
    boolean replacedBeforeHeld(Unfinished execution) {
        lock.lock();
        try {
            return replacedEarly.remove(execution.key()) != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The trigger failed or found an earlier execution (idempotency): it gives its place back.
     * True when that freed a running slot it held.
     */
    boolean withdraw(Claim claim) {
        lock.lock();
        try {
            boolean held = claim.place == Place.RUNNING;
            if (held) {
                giveSlotBack(claim);
            }
            claim.place = Place.RELEASED;
            forget(claim);
            return held;
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
            return accepting && !fenced ? Math.max(0, maxConcurrent - running) : 0;
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
            return claim.place == Place.RUNNING && accepting && !fenced;
        } finally {
            lock.unlock();
        }
    }

    /**
     * While fenced (this node's lease may have run out), nothing starts: no slot is free and
     * nothing is admitted at once. What is queued stays queued, for any node to claim.
     */
    void fenced(boolean on) {
        lock.lock();
        try {
            fenced = on;
        } finally {
            lock.unlock();
        }
    }

    boolean isFenced() {
        lock.lock();
        try {
            return fenced;
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
