package overseer.store;

/**
 * What the shared SQL needs to know about its engine, kept to what differs in the statements
 * themselves (opening, settings and maintenance are the engines' own classes).
 */
enum Dialect {
    /** One writer at a time: a transaction holds the whole database, nothing needs locking. */
    SQLITE(""),
    /** Concurrent writers under READ COMMITTED: rows a transaction checks and then changes are locked first. */
    POSTGRESQL(" FOR UPDATE");

    private final String lockRows;

    Dialect(String lockRows) {
        this.lockRows = lockRows;
    }

    /** What ends a SELECT whose rows the transaction goes on to change, so that no one changes them meanwhile. */
    String lockRows() {
        return lockRows;
    }
}
