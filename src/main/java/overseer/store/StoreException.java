package overseer.store;

/** The store failed (disk full, database corrupt): nothing was acknowledged. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
