package overseer.config;

import java.util.regex.Pattern;

/** Keeps credentials embedded in repository URLs out of messages and logs. */
final class Secrets {
    private static final Pattern USER_INFO = Pattern.compile("(://)[^/@\\s]+@");

    private Secrets() {}

    static String mask(String text) {
        return text == null ? "" : USER_INFO.matcher(text).replaceAll("$1***@");
    }
}
