package overseer.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/** The webhook outbox: deliveries, each pending until sent, failed or expired. */
final class DeliveryRows {
    private static final String COLUMNS = "id, job, number, seq, event, hook_key, url, secret_variable,"
            + " payload, state, attempts, last_status, last_error, next_attempt_at, created_at, expires_at, finished_at";

    /** A delivery waits for the earlier pending ones of its hook and execution: events arrive in order. */
    private static final String NOT_HELD_BACK =
            " AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.hook_key = d.hook_key"
                    + " AND p.job = d.job AND p.number = d.number AND p.seq < d.seq AND p.state = 'pending')";

    private final Sql db;
    private final Dialect dialect;
    private final Holder holder;

    DeliveryRows(Sql db, Dialect dialect, Holder holder) {
        this.db = db;
        this.dialect = dialect;
        this.holder = holder;
    }

    /**
     * Claims for {@code claimant} until {@code until} the due deliveries no one holds, each the
     * oldest pending one of its hook and execution, at most {@code room} for each hook: the
     * candidates are locked first (on PostgreSQL a claim running at the same time passes over
     * them), the ones its hook has room for claimed by one statement, the rest left as they were.
     * Returned oldest due first.
     */
    List<Delivery> claim(String claimant, Instant now, Instant until, Store.HookRoom room, int limit)
            throws SQLException {
        Set<String> full = room.full();
        List<Object> args = new ArrayList<>(List.of(now.toEpochMilli(), now.toEpochMilli()));
        StringBuilder sql = new StringBuilder("SELECT d.id, d.hook_key FROM deliveries d WHERE d.state = 'pending'"
                + " AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?)" + NOT_HELD_BACK
                // A node whose lease ran out claims nothing.
                + holder.lease());
        args.addAll(holder.leaseArgs());
        if (!full.isEmpty()) {
            sql.append(" AND d.hook_key NOT IN (")
                    .append(String.join(", ", java.util.Collections.nCopies(full.size(), "?")))
                    .append(")");
            args.addAll(full);
        }
        sql.append(" ORDER BY d.next_attempt_at, d.created_at LIMIT ?").append(dialect.claimRows());
        args.add(limit);
        List<String> chosen = new ArrayList<>();
        java.util.Map<String, Integer> taken = new java.util.HashMap<>();
        try (PreparedStatement s = db.prepare(sql.toString(), args.toArray());
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                String hook = rs.getString(2);
                if (taken.getOrDefault(hook, 0) < room.of(hook)) {
                    taken.merge(hook, 1, Integer::sum);
                    chosen.add(rs.getString(1));
                }
            }
        }
        if (chosen.isEmpty()) {
            return List.of();
        }
        List<Object> update = new ArrayList<>(List.of(claimant, until.toEpochMilli()));
        update.addAll(chosen);
        List<Delivery> claimed = new ArrayList<>(deliveryList(
                "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN ("
                        + String.join(", ", java.util.Collections.nCopies(chosen.size(), "?")) + ") RETURNING "
                        + COLUMNS,
                update.toArray()));
        claimed.sort(
                java.util.Comparator.comparing((Delivery d) -> d.nextAttemptAt().orElse(d.createdAt()))
                        .thenComparing(Delivery::createdAt));
        return claimed;
    }

    /** Extends {@code claimant}'s claims on {@code ids}. */
    void renew(String claimant, Set<String> ids, Instant until) throws SQLException {
        try (PreparedStatement s = db.prepare(
                "UPDATE deliveries SET claimed_until = ? WHERE id = ? AND claimed_by = ? AND state = 'pending'")) {
            for (String id : ids) {
                s.setLong(1, until.toEpochMilli());
                s.setString(2, id);
                s.setString(3, claimant);
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    /** Gives up every claim held neither by {@code keep} nor by a node whose lease is live; how many there were. */
    int releaseOthers(String keep) throws SQLException {
        return db.count(
                "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL"
                        + " WHERE claimed_by IS NOT NULL AND claimed_by <> ? AND claimed_by NOT IN (SELECT id FROM nodes"
                        + " WHERE state = 'live' AND lease_until > " + dialect.now() + ")",
                keep);
    }

    /** Gives up the claims of {@code node}, which stopped: another node sends them, with the same ids. */
    int releaseOf(String node) throws SQLException {
        return db.count(
                "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ? AND state = 'pending'",
                node);
    }

    Store.Backlog backlog() throws SQLException {
        try (PreparedStatement s =
                        db.prepare("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'");
                ResultSet rs = s.executeQuery()) {
            rs.next();
            return new Store.Backlog(rs.getLong(1), Sql.instant(rs, 2));
        }
    }

    Optional<Instant> nextDue() throws SQLException {
        try (PreparedStatement s =
                        db.prepare("SELECT MIN(CASE WHEN d.claimed_until > d.next_attempt_at THEN d.claimed_until"
                                + " ELSE d.next_attempt_at END) FROM deliveries d WHERE d.state = 'pending'"
                                + NOT_HELD_BACK);
                ResultSet rs = s.executeQuery()) {
            return rs.next() ? Sql.instant(rs, 1) : Optional.<Instant>empty();
        }
    }

    /**
     * Records attempts of deliveries {@code claimant} holds, each giving up its claim; returns the
     * ids it no longer held (its claim ran out and another took it), whose outcome is not written.
     */
    Set<String> attempted(String claimant, Map<String, Delivery.Attempt> attempts) throws SQLException {
        try (PreparedStatement s =
                db.prepare("UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?,"
                        + " next_attempt_at = ?, finished_at = ?, claimed_by = NULL, claimed_until = NULL"
                        + " WHERE id = ? AND claimed_by = ?" + holder.lease())) {
            for (Map.Entry<String, Delivery.Attempt> e : attempts.entrySet()) {
                Delivery.Attempt a = e.getValue();
                s.setString(1, a.state().column());
                Sql.setNullable(s, 2, a.status().isPresent() ? (long) a.status().getAsInt() : null);
                s.setString(3, a.error().orElse(null));
                Sql.setNullable(s, 4, a.nextAttempt().map(Instant::toEpochMilli).orElse(null));
                Sql.setNullable(s, 5, a.state() == Delivery.State.PENDING ? null : a.at().toEpochMilli());
                s.setString(6, e.getKey());
                s.setString(7, claimant);
                if (!holder.leaseArgs().isEmpty()) {
                    s.setString(8, holder.node());
                }
                s.addBatch();
            }
            int[] counts = s.executeBatch();
            Set<String> lost = new java.util.HashSet<>();
            int i = 0;
            for (String id : attempts.keySet()) {
                if (counts[i++] == 0) {
                    lost.add(id);
                }
            }
            return lost;
        }
    }

    Optional<Delivery> find(String id) throws SQLException {
        return deliveryList("SELECT " + COLUMNS + " FROM deliveries WHERE id = ?", id).stream()
                .findFirst();
    }

    List<Delivery> ofExecution(String job, long number) throws SQLException {
        return deliveryList(
                "SELECT " + COLUMNS + " FROM deliveries WHERE job = ? AND number = ? ORDER BY seq, url", job, number);
    }

    List<Delivery> list(Optional<String> state, int limit) throws SQLException {
        String where = state.map(
                        st -> st.equals("failing") ? " WHERE state = 'pending' AND attempts > 0" : " WHERE state = ?")
                .orElse("");
        List<Object> args = new ArrayList<>();
        state.filter(st -> !st.equals("failing")).ifPresent(args::add);
        args.add(limit);
        return deliveryList(
                "SELECT " + COLUMNS + " FROM deliveries" + where + " ORDER BY created_at DESC, id LIMIT ?",
                args.toArray());
    }

    boolean redeliver(String id, Instant now, Instant expiresAt) throws SQLException {
        return db.count(
                        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, expires_at = ?, finished_at = NULL,"
                                + " claimed_by = NULL, claimed_until = NULL WHERE id = ? AND state IN ('failed', 'expired')",
                        now.toEpochMilli(),
                        expiresAt.toEpochMilli(),
                        id)
                == 1;
    }

    /** A delivery of event {@code seq} of an execution, pending from the event's time on; returned as a read would. */
    Delivery insert(String job, long number, long seq, Event event, Delivery.New d) throws SQLException {
        db.update(
                "INSERT INTO deliveries (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0,"
                        + " NULL, NULL, ?, ?, ?, NULL)",
                d.id(),
                job,
                number,
                seq,
                event.name(),
                d.hookKey(),
                d.url(),
                d.secretVariable().orElse(null),
                d.payload(),
                event.at().toEpochMilli(),
                event.at().toEpochMilli(),
                d.expiresAt().toEpochMilli());
        return new Delivery(
                d.id(),
                job,
                number,
                seq,
                event.name(),
                d.hookKey(),
                d.url(),
                d.secretVariable(),
                d.payload(),
                Delivery.State.PENDING,
                0,
                OptionalInt.empty(),
                Optional.empty(),
                Optional.of(event.at()),
                event.at(),
                d.expiresAt(),
                Optional.empty());
    }

    private List<Delivery> deliveryList(String sql, Object... args) throws SQLException {
        List<Delivery> found = new ArrayList<>();
        try (PreparedStatement s = db.prepare(sql, args);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.add(new Delivery(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        Optional.ofNullable(rs.getString(8)),
                        rs.getString(9),
                        Delivery.State.ofColumn(rs.getString(10)),
                        rs.getInt(11),
                        rs.getObject(12) == null ? OptionalInt.empty() : OptionalInt.of(rs.getInt(12)),
                        Optional.ofNullable(rs.getString(13)),
                        Sql.instant(rs, 14),
                        Instant.ofEpochMilli(rs.getLong(15)),
                        Instant.ofEpochMilli(rs.getLong(16)),
                        Sql.instant(rs, 17)));
            }
        }
        return found;
    }
}
