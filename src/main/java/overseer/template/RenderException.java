package overseer.template;

/** A template that cannot be rendered with the values given. */
public final class RenderException extends Exception {
    public RenderException(String message) {
        super(message);
    }
}
