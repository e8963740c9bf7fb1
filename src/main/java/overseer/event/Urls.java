package overseer.event;

import java.util.regex.Pattern;
import overseer.config.Secrets;

/** Hook URLs as they may be shown: credentials in them ({@link Secrets}), and the values of their query, masked. */
public final class Urls {
    private static final Pattern QUERY_VALUE = Pattern.compile("=[^&#]*");

    private Urls() {}

    public static String mask(String url) {
        String masked = Secrets.mask(url);
        int query = masked.indexOf('?');
        if (query < 0) {
            return masked;
        }
        return masked.substring(0, query)
                + QUERY_VALUE.matcher(masked.substring(query)).replaceAll("=***");
    }
}
