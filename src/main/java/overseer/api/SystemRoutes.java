package overseer.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import overseer.config.ConfigSync;
import overseer.execution.Executions;
import overseer.version.BuildInfo;

/**
 * {@code /health} (liveness) and {@code /ready} (readiness: a configuration is active, the store
 * records writes, and the server is not shutting down), both open for probes, and {@code /version}.
 */
public final class SystemRoutes {
    private final ConfigSync config;
    private final Executions executions;
    private final Exchanges exchanges;
    private final BuildInfo build;

    public SystemRoutes(ConfigSync config, Executions executions, Exchanges exchanges, BuildInfo build) {
        this.config = config;
        this.executions = executions;
        this.exchanges = exchanges;
        this.build = build;
    }

    public void register(Router router) {
        router.add("GET", "/health", new Router.Access.Open(), (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "ok");
            body.put("config", config.status().outcome().name().toLowerCase());
            body.put("jobs", config.active().map(s -> s.jobs().size()).orElse(0));
            exchanges.json(exchange, 200, body);
        });
        router.add("GET", "/ready", new Router.Access.Open(), (exchange, params) -> {
            Optional<String> problem =
                    config.active().isEmpty() ? Optional.of("no configuration is active yet") : executions.unready();
            if (problem.isPresent()) {
                throw new ApiException(
                        503, "Service Unavailable", problem.get(), List.of(), Map.of("Retry-After", "5"));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "ready");
            body.put("commit", config.active().orElseThrow().revision());
            exchanges.json(exchange, 200, body);
        });
        router.get("/version", (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("version", build.version());
            body.put("java", build.java());
            exchanges.json(exchange, 200, body);
        });
    }
}
