package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Each execution's events, numbered from its row, and the webhook deliveries each makes. */
final class EventRows {
    private final Sql db;
    private final ExecutionRows executions;
    private final DeliveryRows deliveries;
    private final Outbox outbox;

    /** Told when an append made deliveries: the store tells the outbox once their transaction is committed. */
    private final Runnable madeDeliveries;

    EventRows(Sql db, ExecutionRows executions, DeliveryRows deliveries, Outbox outbox, Runnable madeDeliveries) {
        this.madeDeliveries = madeDeliveries;
        this.db = db;
        this.executions = executions;
        this.deliveries = deliveries;
        this.outbox = outbox;
    }

    List<Event> of(String job, long number) throws SQLException {
        return list("WHERE job = ? AND number = ? ORDER BY seq", job, number);
    }

    Optional<Event> latest(String job, long number, String name) throws SQLException {
        return list("WHERE job = ? AND number = ? AND name = ? ORDER BY seq DESC LIMIT 1", job, number, name).stream()
                .findFirst();
    }

    /**
     * Appends {@code events}, numbered up to {@code lastSeq} (the execution row's count after the
     * statement that moved it, which the transaction now holds: two writers to one execution wait
     * for each other there rather than both take MAX(seq) + 1), each with its webhook deliveries,
     * which it returns as stored.
     */
    List<Delivery> append(String job, long number, long lastSeq, Event... events) throws SQLException {
        List<Delivery> made = new ArrayList<>();
        for (int i = 0; i < events.length; i++) {
            made.addAll(appendOne(job, number, lastSeq - events.length + 1 + i, events[i]));
        }
        return made;
    }

    /** Appends an event numbered {@code seq} and, in the same transaction, the webhook deliveries it makes. */
    private List<Delivery> appendOne(String job, long number, long seq, Event event) throws SQLException {
        db.update(
                "INSERT INTO events (job, number, seq, name, cause, at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                job,
                number,
                seq,
                event.name(),
                event.cause().orElse(null),
                event.at().toEpochMilli(),
                event.source());
        if (!outbox.wants(job, event.name())) {
            return List.of();
        }
        Execution after = executions.find(job, number).orElseThrow();
        List<Delivery.New> made = outbox.deliveries(after, event);
        if (!made.isEmpty()) {
            madeDeliveries.run();
        }
        List<Delivery> stored = new ArrayList<>(made.size());
        for (Delivery.New d : made) {
            stored.add(deliveries.insert(job, number, seq, event, d));
        }
        return stored;
    }

    private List<Event> list(String where, Object... args) throws SQLException {
        List<Event> events = new ArrayList<>();
        try (PreparedStatement s = db.prepare("SELECT name, cause, at, source FROM events " + where, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                events.add(new Event(
                        rs.getString(1),
                        Optional.ofNullable(rs.getString(2)),
                        Instant.ofEpochMilli(rs.getLong(3)),
                        rs.getString(4)));
            }
        }
        return events;
    }
}
