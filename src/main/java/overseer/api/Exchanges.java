package overseer.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
    }

    /**
     * The request body, refusing (413) more than {@code limit} bytes without reading them all. The
     * exchange is in blocking mode: {@link HttpApi} runs every route on a virtual thread.
     */
    public byte[] body(HttpServerExchange exchange, int limit) throws IOException {
        long declared = exchange.getRequestContentLength();
        if (declared > limit) {
            throw tooLarge(limit);
        }
        InputStream in = exchange.getInputStream();
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
    }

    private static ApiException tooLarge(int limit) {
        return new ApiException(413, "Content Too Large", "request body is over the limit of " + limit + " bytes");
    }

    private static void send(HttpServerExchange exchange, int status, String type, byte[] bytes) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
        exchange.getResponseSender().send(java.nio.ByteBuffer.wrap(bytes));
    }
}
