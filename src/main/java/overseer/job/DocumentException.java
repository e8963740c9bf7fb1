package overseer.job;

/** A job file that cannot be read as a document at all (syntax, limits, duplicate keys). */
public final class DocumentException extends Exception {
    private final Position position;

    public DocumentException(Position position, String message) {
        super(message, null, false, false);
        this.position = position;
    }

    public Position position() {
        return position;
    }
}
