package overseer.template;

import java.util.regex.Pattern;

/** POSIX shell quoting: any string becomes one word that the shell passes on byte for byte. */
public final class ShellWords {
    /** Words made only of these characters mean themselves to {@code /bin/sh}; anything else is quoted. */
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private ShellWords() {}

    public static String quote(String value) {
        if (SAFE.matcher(value).matches()) {
            return value;
        }
        // Inside single quotes nothing is special but the single quote itself, which is closed,
        // escaped and reopened.
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
