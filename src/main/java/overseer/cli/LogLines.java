package overseer.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Makes every log line one line. The log goes to stderr one {@code println} per event; a value
 * in it (a file name from the repository, a request path) that holds a line break could otherwise
 * forge a line of its own. Control characters inside a line become {@code ?}.
 */
final class LogLines extends PrintStream {
    private LogLines(PrintStream target) {
        super(target, true, StandardCharsets.UTF_8);
    }

    /** Replaces {@code System.err}, where the logger writes. */
    static void install() {
        if (!(System.err instanceof LogLines)) {
            System.setErr(new LogLines(System.err));
        }
    }

    @Override
    public void println(String line) {
        super.println(escape(line));
    }

    @Override
    public void println(Object line) {
        super.println(escape(String.valueOf(line)));
    }

    static String escape(String line) {
        if (line == null) {
            return "null";
        }
        StringBuilder out = null;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (Character.isISOControl(c) && c != '\t') {
                if (out == null) {
                    out = new StringBuilder(line.length()).append(line, 0, i);
                }
                out.append('?');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? line : out.toString();
    }
}
