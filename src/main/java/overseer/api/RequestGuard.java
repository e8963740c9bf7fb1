package overseer.api;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Refuses what a browser can be made to send on someone else's behalf. A state-changing request
 * whose {@code Origin} is another site (or that says {@code Sec-Fetch-Site: cross-site}) is 403,
 * always: a page the operator visits must not trigger jobs. Without a tokens file every route is
 * open to local callers, so a {@code Host} that is not a loopback name, the listen address, the
 * public URL's host or an allowed host is 421: a DNS-rebinding page cannot reach the API by a name
 * of its own. With tokens, any Host is answered (clients and scrapers by IP), as the token is the check.
 */
final class RequestGuard {
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "::1");

    private final boolean checkHost;
    private final Set<String> hosts;

    /**
     * {@code hosts}: the names (without port) this server is reached by, beyond the loopback ones:
     * the listen address, the public URL's host and {@code --allowed-hosts}.
     */
    RequestGuard(boolean checkHost, List<String> hosts) {
        this.checkHost = checkHost;
        Set<String> all = new HashSet<>(LOOPBACK_NAMES);
        hosts.forEach(h -> all.add(normalize(h)));
        this.hosts = Set.copyOf(all);
    }

    void check(HttpServerExchange exchange) {
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        if (checkHost && host != null && !known(hostName(host))) {
            throw new ApiException(
                    421,
                    "Misdirected Request",
                    "this server does not answer to the host '" + printable(host)
                            + "'; start it with --allowed-hosts to add a name");
        }
        if (SAFE_METHODS.contains(exchange.getRequestMethod().toString())) {
            return;
        }
        String site = exchange.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null && (site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site"))) {
            throw crossSite("Sec-Fetch-Site: " + printable(site));
        }
        String origin = exchange.getRequestHeaders().getFirst(Headers.ORIGIN);
        if (origin != null && !sameOrigin(origin, host, exchange.getRequestScheme())) {
            throw crossSite("Origin: " + printable(origin));
        }
    }

    /**
     * The origin's scheme, host and port are the request's own; or its host is one this server is
     * reached by (through a proxy, say) with the request's scheme or https, never a downgrade to
     * http of an https server.
     */
    private boolean sameOrigin(String origin, String host, String requestScheme) {
        Optional<URI> uri = parse(origin);
        if (uri.isEmpty() || uri.get().getHost() == null || uri.get().getScheme() == null) {
            return false; // "null" (sandboxed frames, file: pages) and garbage alike
        }
        String scheme = uri.get().getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return false;
        }
        String originHost = normalize(uri.get().getHost());
        if (host != null && scheme.equalsIgnoreCase(requestScheme)) {
            String requestHost = hostName(host);
            int requestPort = port(host, uri.get().getScheme());
            int originPort = uri.get().getPort() < 0
                    ? defaultPort(uri.get().getScheme())
                    : uri.get().getPort();
            if (originHost.equals(requestHost) && originPort == requestPort) {
                return true;
            }
        }
        return !LOOPBACK_NAMES.contains(originHost)
                && hosts.contains(originHost)
                && (scheme.equalsIgnoreCase(requestScheme) || scheme.equals("https"));
    }

    private boolean known(String hostName) {
        return hosts.contains(hostName) || hostName.endsWith(".localhost");
    }

    private static ApiException crossSite(String what) {
        return new ApiException(
                403,
                "Forbidden",
                "cross-site request refused (" + what + "); call the API directly, not from a web page");
    }

    private static Optional<URI> parse(String text) {
        try {
            return Optional.of(new URI(text.strip()));
        } catch (java.net.URISyntaxException e) {
            return Optional.empty();
        }
    }

    /** The host of a {@code Host} header, lower case, without port or IPv6 brackets. */
    static String hostName(String header) {
        String h = header.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return normalize(end < 0 ? h.substring(1) : h.substring(1, end));
        }
        int colon = h.lastIndexOf(':');
        return normalize(colon < 0 ? h : h.substring(0, colon));
    }

    private static int port(String header, String scheme) {
        String h = header.strip();
        int bracket = h.lastIndexOf(']');
        int colon = h.lastIndexOf(':');
        if (colon > bracket && colon >= 0) {
            try {
                return Integer.parseInt(h.substring(colon + 1));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return defaultPort(scheme);
    }

    private static int defaultPort(String scheme) {
        return "https".equalsIgnoreCase(scheme) ? 443 : 80;
    }

    private static String normalize(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    private static String printable(String text) {
        String cut = text.length() > 100 ? text.substring(0, 100) + "…" : text;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
