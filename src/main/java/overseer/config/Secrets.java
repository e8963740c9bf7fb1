package overseer.config;

import java.util.regex.Pattern;

/** Keeps credentials embedded in URLs (repositories, hooks) out of messages and logs. */
public final class Secrets {
    private static final Pattern USER_INFO = Pattern.compile("(://)[^/@\\s]+@");

    private Secrets() {}

    public static String mask(String text) {
        return text == null ? "" : USER_INFO.matcher(text).replaceAll("$1***@");
    }
}
