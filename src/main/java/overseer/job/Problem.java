package overseer.job;

/** One validation problem in a repository file, printed as {@code file:line:col: message}. */
public record Problem(String file, int line, int column, String message) {
    public Problem {
        if (file.isEmpty()) {
            throw new IllegalArgumentException("file is empty");
        }
    }

    public static Problem at(String file, Position position, String message) {
        return new Problem(file, position.line(), position.column(), message);
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
