package overseer.api;

import java.util.List;
import java.util.Map;

/**
 * A request that ends in an RFC 9457 problem response. {@code errors} lists per-field problems
 * where there are several.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String title;
    private final List<Map<String, Object>> errors;
    private final Map<String, String> headers;

    public ApiException(int status, String title, String detail) {
        this(status, title, detail, List.of(), Map.of());
    }

    public ApiException(
            int status, String title, String detail, List<Map<String, Object>> errors, Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.headers = Map.copyOf(headers);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<Map<String, Object>> errors() {
        return errors;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** A 401 with the {@code WWW-Authenticate} challenge that tells the client what to send. */
    public static ApiException unauthorized(String detail, String challenge) {
        return new ApiException(401, "Unauthorized", detail, List.of(), Map.of("WWW-Authenticate", challenge));
    }

    public static ApiException notFound(String detail) {
        return new ApiException(404, "Not Found", detail);
    }
}
