package overseer.store;

/**
 * A write failed because the disk holding the store is full; said so rather than in the
 * database's words, which after a failed commit may be only a follow-on error.
 */
public final class DiskFull extends StoreException {
    /** SQLSTATE {@code disk_full} (PostgreSQL); SQLite says {@code SQLITE_FULL} in its message. */
    private static final String DISK_FULL_STATE = "53100";

    public DiskFull(Throwable cause) {
        super("the store cannot write: the disk is full", cause);
    }

    /** Whether {@code failure}, its causes or the errors suppressed in it say the disk is full. */
    static boolean in(Throwable failure) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.Deque<Throwable> left = new java.util.ArrayDeque<>(java.util.List.of(failure));
        while (!left.isEmpty()) {
            Throwable t = left.pop();
            if (!seen.add(t)) {
                continue;
            }
            String message = String.valueOf(t.getMessage());
            if ((t instanceof java.sql.SQLException e && DISK_FULL_STATE.equals(e.getSQLState()))
                    || message.contains("disk is full")
                    || message.contains("No space left on device")) {
                return true;
            }
            if (t.getCause() != null) {
                left.push(t.getCause());
            }
            left.addAll(java.util.List.of(t.getSuppressed()));
        }
        return false;
    }
}
