package overseer.store;

/**
 * A guarded write found the execution in another state than the one it expected: someone else
 * moved it first. Nothing was written.
 */
public final class StaleState extends StoreException {
    public StaleState(String message) {
        super(message, null);
    }
}
