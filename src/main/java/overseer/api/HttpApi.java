package overseer.api;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: matches routes, checks bearer tokens, runs handlers on virtual threads and
 * turns every failure into a problem response.
 */
public final class HttpApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    static final long MAX_BODY_BYTES = 16L * 1024 * 1024;
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);

    /**
     * How the server is exposed: the names it is reached by beyond loopback (the public URL's host,
     * {@code --allowed-hosts}), how many connections it holds at most, and how long a client may
     * take to send a request's head and may keep an idle connection.
     */
    public record Exposure(
            List<String> hosts, int maxConnections, Duration parseTimeout, Duration idleTimeout, Optional<Tls> tls) {
        public static Exposure defaults(List<String> hosts) {
            return new Exposure(hosts, 1000, Duration.ofSeconds(10), Duration.ofSeconds(60), Optional.empty());
        }

        public Exposure(List<String> hosts, int maxConnections, Duration parseTimeout, Duration idleTimeout) {
            this(hosts, maxConnections, parseTimeout, idleTimeout, Optional.empty());
        }
    }

    /** HTTPS instead of HTTP: TLS 1.2 or 1.3, and with {@code requireClientCertificate}, mutual TLS. */
    public record Tls(javax.net.ssl.SSLContext context, boolean requireClientCertificate) {}

    private final Router router;
    private final Exchanges exchanges;
    private final Optional<Tokens> tokens;
    private final RequestGuard guard;
    private final overseer.metrics.Metrics metrics;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Undertow server;
    private volatile boolean started;
    /**
     * Counted down by {@link #open()}: until then the address is held and {@code /health} is
     * answered, and every other request waits (on its virtual thread) for the opening, so that a
     * client that connects early is answered late rather than refused.
     */
    private final java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(1);
    /** How long a request waits for the opening before it is answered 503. */
    private static final java.time.Duration OPENING_WAIT = java.time.Duration.ofSeconds(30);

    public HttpApi(
            InetSocketAddress listen,
            Router router,
            Exchanges exchanges,
            Optional<Tokens> tokens,
            Exposure exposure,
            overseer.metrics.Metrics metrics) {
        this.metrics = metrics;
        if (tokens.isEmpty() && !listen.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException(
                    "refusing to listen on " + listen.getAddress().getHostAddress()
                            + " without --tokens: without tokens anyone who can reach the port could use the API");
        }
        this.router = router;
        this.exchanges = exchanges;
        this.tokens = tokens;
        List<String> hosts = new java.util.ArrayList<>(exposure.hosts());
        hosts.add(listen.getAddress().getHostAddress());
        this.guard = new RequestGuard(tokens.isEmpty(), hosts);
        HttpHandler root = exchange -> {
            if (exchange.isInIoThread()) {
                exchange.dispatch(executor, this::handle);
            } else {
                handle(exchange);
            }
        };
        Undertow.Builder builder = Undertow.builder();
        if (exposure.tls().isPresent()) {
            Tls tls = exposure.tls().get();
            builder.addHttpsListener(listen.getPort(), listen.getAddress().getHostAddress(), tls.context())
                    .setSocketOption(org.xnio.Options.SSL_ENABLED_PROTOCOLS, org.xnio.Sequence.of("TLSv1.3", "TLSv1.2"))
                    .setSocketOption(
                            org.xnio.Options.SSL_CLIENT_AUTH_MODE,
                            tls.requireClientCertificate()
                                    ? org.xnio.SslClientAuthMode.REQUIRED
                                    : org.xnio.SslClientAuthMode.NOT_REQUESTED);
        } else {
            builder.addHttpListener(listen.getPort(), listen.getAddress().getHostAddress());
        }
        this.server = builder.setHandler(root)
                // No route takes large bodies; this bounds what a client can make the server read.
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, MAX_BODY_BYTES)
                // A client that trickles its request head, or holds an idle connection, is cut
                // off; past the connection cap the server stops accepting until some close.
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int)
                        exposure.parseTimeout().toMillis())
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, (int)
                        exposure.idleTimeout().toMillis())
                .setSocketOption(org.xnio.Options.CONNECTION_HIGH_WATER, exposure.maxConnections())
                .setSocketOption(org.xnio.Options.CONNECTION_LOW_WATER, exposure.maxConnections())
                .build();
    }

    /**
     * Binds the listen address (failing when it is in use) and answers {@code /health}; every
     * other request waits for {@link #open()} (503 after 30 s), so that nothing is triggered
     * before recovery.
     */
    public void start() {
        server.start();
        started = true;
    }

    /** Why the server cannot open yet (its database is away), said at once to every request but {@code /health}. */
    private volatile Optional<String> unavailable = Optional.empty();

    /** Until {@link #open()}, requests are answered 503 with {@code reason} at once rather than held; empty: held again. */
    public void unavailable(Optional<String> reason) {
        unavailable = reason;
    }

    /** Takes requests from now on. */
    public void open() {
        opened.countDown();
    }

    private boolean awaitOpening() {
        try {
            return opened.await(OPENING_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The address actually bound (the port is chosen by the system when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenerInfo().getFirst().getAddress();
    }

    /** Who made a request, once its token is checked; absent without a tokens file. */
    static final io.undertow.util.AttachmentKey<Tokens.Caller> CALLER =
            io.undertow.util.AttachmentKey.create(Tokens.Caller.class);

    private static final java.util.Set<String> READ_METHODS = java.util.Set.of("GET", "HEAD", "OPTIONS");
    /** Methods counted by name in /metrics; any other is "other", so a client cannot add labels. */
    private static final java.util.Set<String> METRIC_METHODS =
            java.util.Set.of("GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH");

    private static final java.util.regex.Pattern CONTROL = java.util.regex.Pattern.compile("\\p{Cntrl}");

    private void handle(HttpServerExchange exchange) {
        long began = System.nanoTime();
        String route = "unmatched";
        secure(exchange);
        try {
            refuseUnknownTransferCodings(exchange);
            guard.check(exchange);
            if (!exchange.getRequestPath().equals("/health") && opened.getCount() > 0 && unavailable.isPresent()) {
                throw new ApiException(
                        503, "Service Unavailable", unavailable.get(), List.of(), Map.of("Retry-After", "5"));
            }
            if (!exchange.getRequestPath().equals("/health") && !awaitOpening()) {
                throw new ApiException(
                        503, "Service Unavailable", "the server is starting", List.of(), Map.of("Retry-After", "1"));
            }
            Router.Match match = router.match(exchange.getRequestMethod(), exchange.getRequestPath());
            route = match.registered().template();
            switch (match.registered().access()) {
                case Router.Access.Token(Role required) -> authorize(exchange, required, (p, t) -> false, Map.of());
                case Router.Access.TokenOr(Role required, var alternative) ->
                    authorize(exchange, required, alternative, match.params());
                case Router.Access.Open open -> {}
            }
            match.registered().route().handle(exchange, match.params());
        } catch (ApiException e) {
            respond(exchange, e);
        } catch (overseer.store.StaleState e) {
            respond(exchange, new ApiException(409, "Conflict", e.getMessage()));
        } catch (overseer.store.StoreException e) {
            // The database is away or cannot write: the request may succeed later, and says so.
            log.warn("api: {} {}: {}", exchange.getRequestMethod(), exchange.getRequestPath(), e.getMessage());
            respond(
                    exchange,
                    new ApiException(
                            503, "Service Unavailable", e.getMessage(), List.of(), Map.of("Retry-After", "5")));
        } catch (Exception e) {
            log.error("api: {} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestPath(), e.toString(), e);
            respond(exchange, new ApiException(500, "Internal Server Error", "the server failed; see its log"));
        } finally {
            finish(exchange);
            audit(exchange);
            String method = exchange.getRequestMethod().toString();
            metrics.request(
                    route,
                    METRIC_METHODS.contains(method) ? method : "other",
                    exchange.getStatusCode(),
                    Duration.ofNanos(System.nanoTime() - began));
        }
    }

    /**
     * Only {@code chunked} alone is understood (RFC 9112 §6.1: a server that does not understand a
     * transfer coding answers 501); a layered value such as {@code chunked, identity} or {@code
     * gzip, chunked} could be framed differently by a proxy in front, so it is refused whole.
     */
    private static void refuseUnknownTransferCodings(HttpServerExchange exchange) {
        var values = exchange.getRequestHeaders().get(Headers.TRANSFER_ENCODING);
        if (values == null || values.isEmpty()) {
            return;
        }
        if (values.size() != 1 || !values.getFirst().strip().equalsIgnoreCase("chunked")) {
            exchange.setPersistent(false);
            throw new ApiException(
                    501,
                    "Not Implemented",
                    "only 'Transfer-Encoding: chunked' is understood, not '" + printable(String.join(", ", values))
                            + "'");
        }
    }

    /**
     * Ends the exchange. A buffered answer is sent, and the exchange ended, on the connection's
     * I/O thread: ended here, beside it, Undertow's read listener spins on the connection's state
     * while this thread finishes, and with keep-alive clients that cost about a fifth of the
     * server's CPU. Streamed answers (blocking mode) end here.
     */
    private static void finish(HttpServerExchange exchange) {
        if (exchange.isBlocking() || exchange.isComplete()) {
            exchange.endExchange();
            return;
        }
        ByteBuffer body = exchange.removeAttachment(Exchanges.BODY);
        exchange.dispatch(exchange.getIoThread(), ex -> {
            if (body == null) {
                ex.endExchange();
            } else {
                ex.getResponseSender().send(body);
            }
        });
    }

    /**
     * On every answer: the UI's pages run only the server's own scripts and styles and talk only
     * to the server; nothing is framed, sniffed or sent on as a referrer.
     */
    private static void secure(HttpServerExchange exchange) {
        var headers = exchange.getResponseHeaders();
        headers.put(
                new io.undertow.util.HttpString("Content-Security-Policy"),
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
                        + " base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        headers.put(new io.undertow.util.HttpString("X-Content-Type-Options"), "nosniff");
        headers.put(new io.undertow.util.HttpString("Referrer-Policy"), "no-referrer");
        headers.put(new io.undertow.util.HttpString("X-Frame-Options"), "DENY");
    }

    /** One line per request that may change something: who, what, the answer, from where. Never the token. */
    private void audit(HttpServerExchange exchange) {
        String method = exchange.getRequestMethod().toString();
        if (READ_METHODS.contains(method)) {
            return;
        }
        Tokens.Caller caller = exchange.getAttachment(CALLER);
        String who = caller != null
                ? caller.role().name().toLowerCase() + " " + caller.label()
                : tokens.isPresent() ? "unauthenticated" : "local (no tokens file)";
        log.info(
                "audit: {} {} -> {} by {} from {}",
                method,
                printable(exchange.getRequestPath()),
                exchange.getStatusCode(),
                printable(who),
                exchange.getSourceAddress() == null
                        ? "?"
                        : exchange.getSourceAddress().getAddress().getHostAddress());
    }

    /** A value from the network, with its control characters (a forged log line) replaced. */
    static String printable(String text) {
        String cut = text.length() > 300 ? text.substring(0, 300) + "…" : text;
        return CONTROL.matcher(cut).replaceAll("?");
    }

    private void authorize(
            HttpServerExchange exchange,
            Role required,
            java.util.function.BiPredicate<Map<String, String>, String> alternative,
            Map<String, String> params) {
        if (tokens.isEmpty()) {
            return;
        }
        String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("an 'Authorization: Bearer <token>' header is required", "Bearer");
        }
        String token = header.substring(7).strip();
        Optional<Tokens.Caller> caller = tokens.get().callerOf(token.getBytes(StandardCharsets.UTF_8));
        if (caller.isEmpty() && alternative.test(params, token)) {
            exchange.putAttachment(CALLER, new Tokens.Caller(Role.TRIGGER, "execution token"));
            return;
        }
        if (caller.isEmpty()) {
            throw ApiException.unauthorized("unknown token", "Bearer error=\"invalid_token\"");
        }
        exchange.putAttachment(CALLER, caller.get());
        Optional<Role> role = caller.map(Tokens.Caller::role);
        if (!role.get().allows(required)) {
            throw new ApiException(
                    403,
                    "Forbidden",
                    "this needs a token with role " + required.name().toLowerCase());
        }
    }

    private void respond(HttpServerExchange exchange, ApiException e) {
        if (exchange.isResponseStarted()) {
            return;
        }
        try {
            exchanges.problem(exchange, e);
        } catch (java.io.IOException io) {
            log.debug("api: cannot send problem response: {}", io.getMessage());
        }
    }

    /**
     * Stops listening and closes the connections, then gives running handlers {@link
     * #CLOSE_DEADLINE} to finish before interrupting them: a stuck handler never holds up shutdown.
     */
    @Override
    public void close() {
        if (started) {
            started = false;
            server.stop();
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("api: handlers still running after {} s; interrupting them", CLOSE_DEADLINE.toSeconds());
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
