package overseer.api;

import java.util.LinkedHashMap;
import java.util.Map;
import overseer.config.ConfigSync;
import overseer.version.BuildInfo;

/** {@code /health} (no token needed, for probes) and {@code /version}. */
public final class SystemRoutes {
    private final ConfigSync config;
    private final Exchanges exchanges;
    private final BuildInfo build;

    public SystemRoutes(ConfigSync config, Exchanges exchanges, BuildInfo build) {
        this.config = config;
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
        router.get("/version", (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("version", build.version());
            body.put("java", build.java());
            exchanges.json(exchange, 200, body);
        });
    }
}
