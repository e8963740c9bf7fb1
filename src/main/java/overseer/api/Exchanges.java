package overseer.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.io.UndertowInputStream;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading requests and writing JSON and problem responses, the same way on every route. */
public final class Exchanges {
    public static final String JSON = "application/json";
    public static final String PROBLEM_JSON = "application/problem+json";

    private final ObjectMapper mapper;

    public Exchanges(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public ObjectMapper mapper() {
        return mapper;
    }

    public void json(HttpServerExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, JSON, mapper.writeValueAsBytes(body));
    }

    public void problem(HttpServerExchange exchange, ApiException e) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", e.title());
        body.put("status", e.status());
        body.put("detail", e.getMessage());
        body.put("instance", exchange.getRequestPath());
        if (!e.errors().isEmpty()) {
            body.put("errors", e.errors());
        }
        e.headers().forEach((k, v) -> exchange.getResponseHeaders().put(new io.undertow.util.HttpString(k), v));
        send(exchange, e.status(), PROBLEM_JSON, mapper.writeValueAsBytes(body));
        // Undertow knows no reason phrase for some codes (421 is "Unknown"); the title is the phrase.
        exchange.setReasonPhrase(e.title());
    }

    /**
     * The request body, refusing (413) more than {@code limit} bytes without reading them all. Read
     * through a stream of its own rather than the exchange's blocking mode, so that a buffered
     * answer can still be sent from the I/O thread ({@link #send}); the calling virtual thread
     * blocks while it reads. (Undertow's async receiver would wait for the route to return.)
     */
    public byte[] body(HttpServerExchange exchange, int limit) throws IOException {
        long declared = exchange.getRequestContentLength();
        if (declared > limit) {
            throw tooLarge(limit);
        }
        try (InputStream in = new UndertowInputStream(exchange)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (out.size() + n > limit) {
                    throw tooLarge(limit);
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            // A chunk size that is not hex, a broken trailer, a body cut short: the client's fault,
            // a 400 and no error in the log. (Undertow's chunked decoder closes the connection
            // itself on bad framing, so such a client usually sees the connection close instead.)
            exchange.setPersistent(false);
            throw new ApiException(400, "Bad Request", "the request body is malformed (" + e.getMessage() + ")");
        }
    }

    /** The response body as a stream, for routes that write more than fits a buffer. */
    public static OutputStream output(HttpServerExchange exchange) {
        if (!exchange.isBlocking()) {
            exchange.startBlocking();
        }
        return exchange.getOutputStream();
    }

    private static ApiException tooLarge(int limit) {
        return new ApiException(413, "Content Too Large", "request body is over the limit of " + limit + " bytes");
    }

    /**
     * Answers with {@code bytes}. Outside blocking mode they are only kept here: {@link HttpApi}
     * sends them from the connection's I/O thread once the route has returned.
     */
    public static void send(HttpServerExchange exchange, int status, String type, byte[] bytes) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
        if (exchange.isBlocking()) {
            exchange.getResponseSender().send(ByteBuffer.wrap(bytes));
        } else {
            exchange.putAttachment(BODY, ByteBuffer.wrap(bytes));
        }
    }

    /** A response body waiting for the I/O thread. */
    static final AttachmentKey<ByteBuffer> BODY = AttachmentKey.create(ByteBuffer.class);
}
