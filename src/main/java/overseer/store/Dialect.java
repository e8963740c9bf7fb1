package overseer.store;

/**
 * What the shared SQL needs to know about its engine, kept to what differs in the statements
 * themselves (opening, settings and maintenance are the engines' own classes).
 */
enum Dialect {
    /** One writer at a time: a transaction holds the whole database, nothing needs locking. */
    SQLITE(
            "",
            "",
            "CASE WHEN json_valid(launch) THEN json_extract(launch, '$.%1$s') END",
            "",
            "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
            false,
            "NOT EXISTS (SELECT 1 FROM json_each('[\"' || replace(%1$s, ',', '\",\"') || '\"]') l"
                    + " WHERE instr(',' || ? || ',', ',' || l.value || ',') = 0)"),
    /**
     * Concurrent writers under READ COMMITTED: rows a transaction checks and then changes are
     * locked first; a claim passes over rows another claim has locked rather than wait for them.
     */
    POSTGRESQL(
            " FOR UPDATE",
            " FOR UPDATE SKIP LOCKED",
            // Read as text, not cast to json: one malformed row must not stop the migration.
            "CAST(substring(launch from '\"%1$s\":([0-9]+)') AS INTEGER)",
            // A transaction-scoped advisory lock (the key is arbitrary, Overseer's own).
            "SELECT pg_advisory_xact_lock(7243401)",
            // The transaction's start on the database's clock: one clock for every node's lease.
            "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)",
            true,
            "string_to_array(%1$s, ',') <@ string_to_array(CAST(? AS TEXT), ',')");

    private final String lockRows;
    private final String claimRows;
    private final String launchInteger;
    private final String claimTurn;
    private final String now;
    private final boolean shared;
    private final String labelsCover;

    Dialect(
            String lockRows,
            String claimRows,
            String launchInteger,
            String claimTurn,
            String now,
            boolean shared,
            String labelsCover) {
        this.labelsCover = labelsCover;
        this.lockRows = lockRows;
        this.claimRows = claimRows;
        this.launchInteger = launchInteger;
        this.claimTurn = claimTurn;
        this.now = now;
        this.shared = shared;
    }

    /**
     * A condition that the comma-separated labels in {@code column} are all among those of the
     * one parameter (the node's, comma-separated; labels hold no comma and no quote).
     */
    String labelsCover(String column) {
        return labelsCover.formatted(column);
    }

    /** The database's clock, in milliseconds since the epoch: the clock of every node's lease. */
    String now() {
        return now;
    }

    /**
     * Whether several servers may use one database: their writes about work they hold then check
     * the writer's lease (one embedded database has one server, which no one else can fence).
     */
    boolean shared() {
        return shared;
    }

    /** A query that makes the queue's claims of several stores take turns (empty: the engine has one writer). */
    String claimTurn() {
        return claimTurn;
    }

    /** An integer field of the {@code launch} column's JSON, for migrations that copy it into a column of its own. */
    String launchInteger(String field) {
        return launchInteger.formatted(field);
    }

    /** What ends the SELECT of a claim: rows that another claim is taking are left to it. */
    String claimRows() {
        return claimRows;
    }

    /** What ends a SELECT whose rows the transaction goes on to change, so that no one changes them meanwhile. */
    String lockRows() {
        return lockRows;
    }
}
