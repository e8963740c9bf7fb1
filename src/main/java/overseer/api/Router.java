package overseer.api;

import io.undertow.util.HttpString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Maps method and path to a {@link Route}. Patterns are segments with {@code {name}} parameters.
 * Knows which methods a path allows, so that a wrong method is a 405 with {@code Allow}.
 */
public final class Router {
    /** Who may call a route: a bearer role, or nobody needs one (liveness, signed webhooks). */
    public sealed interface Access {
        record Token(Role role) implements Access {}

        record Open() implements Access {}

        /**
         * A bearer role, or a token that {@code alternative} accepts for this request's path
         * parameters (an execution's own token, which its job uses to raise events).
         */
        record TokenOr(Role role, java.util.function.BiPredicate<Map<String, String>, String> alternative)
                implements Access {}
    }

    record Registered(String method, List<String> segments, Access access, Route route) {
        /** The route's pattern, as metrics label it: {@code /jobs/{job}/{n}}, never a raw path. */
        String template() {
            return "/" + String.join("/", segments);
        }
    }

    record Match(Registered registered, Map<String, String> params) {}

    /**
     * Routes are added while the server already listens (it answers {@code /health} while the store
     * opens), so the I/O threads read this list while start-up still adds to it.
     */
    private final List<Registered> routes = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Router add(String method, String pattern, Access access, Route route) {
        routes.add(new Registered(method, segments(pattern), access, route));
        return this;
    }

    public Router get(String pattern, Route route) {
        return add("GET", pattern, new Access.Token(Role.READ), route);
    }

    /** The route for this request, or an {@link ApiException} (404, or 405 with Allow). */
    Match match(HttpString method, String path) {
        List<String> segments = segments(path);
        String wanted = method.toString().equals("HEAD") ? "GET" : method.toString();
        TreeSet<String> allowed = new TreeSet<>();
        for (Registered r : routes) {
            Optional<Map<String, String>> params = bind(r.segments(), segments);
            if (params.isEmpty()) {
                continue;
            }
            if (r.method().equals(wanted)) {
                return new Match(r, params.get());
            }
            allowed.add(r.method());
        }
        if (allowed.isEmpty()) {
            throw ApiException.notFound("no resource at " + path);
        }
        if (allowed.contains("GET")) {
            allowed.add("HEAD");
        }
        throw new ApiException(
                405,
                "Method Not Allowed",
                method + " is not allowed on " + path,
                List.of(),
                Map.of("Allow", String.join(", ", allowed)));
    }

    private static Optional<Map<String, String>> bind(List<String> pattern, List<String> path) {
        if (pattern.size() != path.size()) {
            return Optional.empty();
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < pattern.size(); i++) {
            String p = pattern.get(i);
            if (p.startsWith("{") && p.endsWith("}")) {
                params.put(p.substring(1, p.length() - 1), path.get(i));
            } else if (!p.equals(path.get(i))) {
                return Optional.empty();
            }
        }
        return Optional.of(params);
    }

    private static List<String> segments(String path) {
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                segments.add(s);
            }
        }
        return segments;
    }
}
