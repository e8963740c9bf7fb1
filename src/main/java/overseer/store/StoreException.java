package overseer.store;

/** The store failed (disk full, database corrupt): nothing was acknowledged. */
public sealed class StoreException extends RuntimeException permits StaleState, DiskFull {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
