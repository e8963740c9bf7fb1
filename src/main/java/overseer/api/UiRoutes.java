package overseer.api;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The web UI: static files packaged under {@code overseer/ui/} in the jar, served at {@code /ui/}
 * ({@code /} redirects there), and {@code GET /me}, which tells the UI what its token may do. The
 * files are open, as every page fetches its data from the API with the token the user gave.
 */
public final class UiRoutes {
    private static final Pattern FILE = Pattern.compile("[a-z][a-z0-9-]*\\.(html|js|css|svg)");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml");

    private final Exchanges exchanges;
    private final boolean tokens;
    /** Only names the pattern allows are asked for, so this holds the UI's files and few misses. */
    private final Map<String, Optional<byte[]>> files = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code tokens}: whether the server has a tokens file (without one every caller may do all). */
    public UiRoutes(Exchanges exchanges, boolean tokens) {
        this.exchanges = exchanges;
        this.tokens = tokens;
    }

    public void register(Router router) {
        Router.Access open = new Router.Access.Open();
        router.add("GET", "/", open, (exchange, params) -> redirect(exchange, "/ui/"));
        router.add("GET", "/ui", open, (exchange, params) -> {
            if (!exchange.getRequestPath().endsWith("/")) {
                redirect(exchange, "/ui/");
                return;
            }
            file(exchange, "index.html");
        });
        router.add("GET", "/ui/{file}", open, (exchange, params) -> file(exchange, params.get("file")));
        router.get("/me", (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            Tokens.Caller caller = exchange.getAttachment(HttpApi.CALLER);
            body.put("role", caller == null ? "admin" : caller.role().name().toLowerCase());
            body.put("label", caller == null ? null : caller.label());
            body.put("tokens", tokens);
            exchanges.json(exchange, 200, body);
        });
    }

    private static void redirect(HttpServerExchange exchange, String to) {
        exchange.getResponseHeaders().put(Headers.LOCATION, to);
        Exchanges.send(exchange, 302, "text/plain; charset=utf-8", new byte[0]);
    }

    private void file(HttpServerExchange exchange, String name) throws IOException {
        Optional<byte[]> bytes = FILE.matcher(name).matches() ? resource(name) : Optional.empty();
        if (bytes.isEmpty()) {
            throw ApiException.notFound("no file " + HttpApi.printable(name) + " in the UI");
        }
        String extension = name.substring(name.lastIndexOf('.') + 1);
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-cache");
        Exchanges.send(exchange, 200, TYPES.get(extension), bytes.get());
    }

    /** A file of the UI, read from the jar once (the jar does not change while it runs). */
    private Optional<byte[]> resource(String name) throws IOException {
        Optional<byte[]> known = files.get(name);
        if (known == null) {
            try (InputStream in = UiRoutes.class.getResourceAsStream("/overseer/ui/" + name)) {
                known = in == null ? Optional.empty() : Optional.of(in.readAllBytes());
            }
            files.put(name, known);
        }
        return known;
    }
}
