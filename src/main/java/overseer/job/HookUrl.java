package overseer.job;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * A hook's {@code url} checked for what sending needs: absolute http or https, a host name, and a
 * port from 1 to 65535 if one is given ({@link URI} checks no range). The parser refuses what is
 * not usable; the sender fails a stored delivery whose URL is not (one stored by an older version).
 */
public sealed interface HookUrl {
    /** A URL a hook can be sent to. */
    record Usable(URI uri) implements HookUrl {}

    /** Why a URL cannot be sent to; the reason names only the faulty part, never the URL and its credentials. */
    record Unusable(String reason) implements HookUrl {}

    static HookUrl parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return new Unusable(
                    "is not a valid URL: " + e.getReason() + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
        }
        String scheme = uri.getScheme();
        if (scheme == null) {
            return new Unusable("must be an absolute http or https URL");
        }
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return new Unusable("must be an http or https URL, not '" + scheme + "'");
        }
        if (uri.getHost() == null) {
            return new Unusable("has no valid host name");
        }
        if (uri.getPort() != -1 && (uri.getPort() < 1 || uri.getPort() > 65535)) {
            return new Unusable("has port " + uri.getPort() + "; a port is 1 to 65535");
        }
        return new Usable(uri);
    }
}
