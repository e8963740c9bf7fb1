package overseer.config;

/** A sync step failed (remote unreachable, authentication refused, missing branch…). */
public final class SyncException extends Exception {
    public SyncException(String message) {
        // One line: it goes into a log line and GET /config.
        super(Secrets.mask(message).strip().replaceAll("\\s*\\R\\s*", "; "), null, false, false);
    }
}
