package overseer.store;

import java.util.List;

/**
 * Which webhook deliveries an event makes. The store asks inside the transaction that records the
 * event, so an event is never stored without its deliveries, nor acknowledged before them.
 */
public interface Outbox {
    Outbox NONE = new Outbox() {
        @Override
        public boolean wants(String job, String event) {
            return false;
        }

        @Override
        public List<Delivery.New> deliveries(Execution execution, Event event) {
            return List.of();
        }
    };

    /** Whether any hook wants this event of this job; when none does, the event costs nothing more. */
    boolean wants(String job, String event);

    /** The deliveries of {@code event}, given the execution as the event leaves it. */
    List<Delivery.New> deliveries(Execution execution, Event event);

    /**
     * Called once the transaction that stored deliveries it made is committed: only then can
     * another connection (the sender's) read them.
     */
    default void committed() {}
}
