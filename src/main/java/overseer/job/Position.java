package overseer.job;

/** A 1-based line and column in a repository file. */
public record Position(int line, int column) {
    public static final Position START = new Position(1, 1);

    public Position {
        if (line < 1 || column < 1) {
            throw new IllegalArgumentException("not a 1-based position: " + line + ":" + column);
        }
    }
}
