package overseer.job;

/**
 * One validation problem in a repository file, printed as {@code file:line:col: message}. What
 * it quotes from the file is bounded ({@link #echo}), and so is the whole message: a job file is
 * untrusted, and its values come back in answers and logs.
 */
public record Problem(String file, int line, int column, String message) {
    /** How much of one value a problem quotes. */
    private static final int ECHO_LENGTH = 60;
    /** How long a message may be: enough for a list of every accepted choice. */
    private static final int MAX_MESSAGE = 1000;

    public Problem {
        if (file.isEmpty()) {
            throw new IllegalArgumentException("file is empty");
        }
        if (message.length() > MAX_MESSAGE) {
            message = message.substring(0, MAX_MESSAGE) + "… (cut)";
        }
    }

    /** A value as a problem shows it: its start, and how much was left out. */
    public static String echo(Object value) {
        String text = String.valueOf(value);
        if (text.length() <= ECHO_LENGTH) {
            return text;
        }
        return text.substring(0, ECHO_LENGTH) + "… (" + (text.length() - ECHO_LENGTH) + " more characters)";
    }

    public static Problem at(String file, Position position, String message) {
        return new Problem(file, position.line(), position.column(), message);
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
