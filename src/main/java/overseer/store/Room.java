package overseer.store;

import java.util.List;
import java.util.Optional;

/**
 * What a new execution's admission is decided on, read in its creating transaction: how many
 * executions are queued (counted up to the queue's bound), and, for a job with a concurrency, its
 * unfinished executions (numbers, oldest first) and how many of them are starting or running.
 */
record Room(int queued, List<Long> unfinished, int active) {
    Room {
        unfinished = List.copyOf(unfinished);
    }

    /**
     * Admission's answer: refused (and why), or admitted, to start at once ({@code start}) or to
     * be queued, with the executions it replaces.
     */
    record Decision(boolean start, List<Long> replaces, Optional<Store.Refusal> refusal) {
        static final Decision QUEUED = new Decision(false, List.of(), Optional.empty());

        static Decision refused(Store.Refusal why) {
            return new Decision(false, List.of(), Optional.of(why));
        }
    }

    /**
     * The queue's bound first (a full queue refuses whatever the job's rules); then the job's
     * concurrency: at the limit, {@code SKIP} refuses and {@code REPLACE} chooses the oldest
     * unfinished executions beyond the places left. Executions another trigger already chose to
     * replace, still ending, are counted and chosen again: the choice is always the oldest, so
     * the newest execution wins whatever the order of the kills.
     */
    Decision decide(Store.Admit rules) {
        if (queued >= rules.maxQueued()) {
            return Decision.refused(new Store.Refusal(Store.Refusal.Kind.QUEUE_FULL, queued, List.of()));
        }
        List<Long> replaces = List.of();
        if (rules.concurrency().isPresent()) {
            int limit = rules.concurrency().getAsInt();
            if (unfinished.size() >= limit) {
                switch (rules.onLimit()) {
                    case SKIP -> {
                        return Decision.refused(new Store.Refusal(Store.Refusal.Kind.AT_LIMIT, queued, unfinished));
                    }
                    case REPLACE -> replaces = unfinished.subList(0, unfinished.size() - limit + 1);
                    case QUEUE -> {}
                }
            }
        }
        boolean start = rules.mayStart()
                && queued == 0
                && replaces.isEmpty()
                && (rules.concurrency().isEmpty()
                        || active < rules.concurrency().getAsInt());
        return new Decision(start, replaces, Optional.empty());
    }
}
