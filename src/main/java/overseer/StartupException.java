package overseer;

/**
 * An expected start-up failure the operator can fix (the address in use, the data directory
 * locked or unwritable, an unreadable tokens file, bad TLS files): its message is the one line
 * {@code overseer serve} prints, naming the culprit, before it exits with code 2.
 */
public final class StartupException extends RuntimeException {
    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
