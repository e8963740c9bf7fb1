package overseer.config;

/** A sync step failed (remote unreachable, authentication refused, missing branch…). */
public final class SyncException extends Exception {
    public SyncException(String message) {
        super(Secrets.mask(message), null, false, false);
    }
}
