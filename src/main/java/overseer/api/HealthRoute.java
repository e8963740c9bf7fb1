package overseer.api;

import java.util.LinkedHashMap;
import java.util.Map;
import overseer.config.ConfigSync;

/**
 * {@code /health} (liveness), open for probes. Registered before the server listens: it answers
 * from the first accepted connection, while the store is being opened or waited for, when no
 * other route exists yet.
 */
public final class HealthRoute {
    private final ConfigSync config;
    private final Exchanges exchanges;

    public HealthRoute(ConfigSync config, Exchanges exchanges) {
        this.config = config;
        this.exchanges = exchanges;
    }

    public void register(Router router) {
        router.add("GET", "/health", new Router.Access.Open(), (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "ok");
            body.put("config", config.status().outcome().name().toLowerCase(java.util.Locale.ROOT));
            body.put("jobs", config.active().map(s -> s.jobs().size()).orElse(0));
            exchanges.json(exchange, 200, body);
        });
    }
}
