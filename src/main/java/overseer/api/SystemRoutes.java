package overseer.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import overseer.config.ConfigSync;
import overseer.execution.Executions;
import overseer.version.BuildInfo;

/**
 * {@code /ready} (readiness: a configuration is active, the store
 * records writes, no background service is failing past its limits, and the server is not
 * shutting down), open for probes, {@code /metrics} and {@code /version}. {@code /health} is
 * {@link HealthRoute}, there before the rest.
 */
public final class SystemRoutes {
    private final ConfigSync config;
    private final Executions executions;
    private final Exchanges exchanges;
    private final BuildInfo build;

    /** When {@code /ready} turns 503 beyond the engine's own reasons: too little disk, a sync too long ago (zero: never). */
    public record Readiness(java.nio.file.Path data, long minFreeBytes, java.time.Duration maxSyncAge) {}

    private final Readiness readiness;
    private final java.util.function.Supplier<List<String>> services;
    private final overseer.metrics.Metrics metrics;
    private final java.time.Clock clock;

    /** {@code services}: one line per background service failing past its limits, naming it (the supervisor's problems). */
    public SystemRoutes(
            ConfigSync config,
            Executions executions,
            Exchanges exchanges,
            BuildInfo build,
            Readiness readiness,
            java.util.function.Supplier<List<String>> services,
            java.time.Clock clock,
            overseer.metrics.Metrics metrics) {
        this.services = services;
        this.metrics = metrics;
        this.config = config;
        this.executions = executions;
        this.exchanges = exchanges;
        this.build = build;
        this.readiness = readiness;
        this.clock = clock;
    }

    /** Why the server should not take traffic now, if it should not. */
    private Optional<String> unready() {
        if (config.active().isEmpty()) {
            return Optional.of("no configuration is active yet");
        }
        Optional<String> engine = executions.unready();
        if (engine.isPresent()) {
            return engine;
        }
        // Names the service only: /ready is open, and an exception's text is for the log.
        List<String> failing = services.get();
        if (!failing.isEmpty()) {
            return Optional.of(String.join("; ", failing));
        }
        try {
            long free = java.nio.file.Files.getFileStore(readiness.data()).getUsableSpace();
            if (free < readiness.minFreeBytes()) {
                return Optional.of("the data directory's disk has " + free / (1024 * 1024) + " MiB free, less than"
                        + " --min-free-disk (" + readiness.minFreeBytes() / (1024 * 1024) + " MiB)");
            }
        } catch (java.io.IOException e) {
            return Optional.of("cannot tell the data directory's free space: " + e.getMessage());
        }
        if (!readiness.maxSyncAge().isZero()) {
            java.time.Instant since =
                    config.status().lastSuccess().orElse(config.active().get().appliedAt());
            java.time.Duration age = java.time.Duration.between(since, clock.instant());
            if (age.compareTo(readiness.maxSyncAge()) > 0) {
                return Optional.of("the configuration has not synced for " + age.toSeconds() + " s (more than"
                        + " --max-sync-age " + readiness.maxSyncAge().toSeconds() + " s): "
                        + config.status().error().orElse("the source cannot be read"));
            }
        }
        return Optional.empty();
    }

    public void register(Router router) {
        router.add("GET", "/ready", new Router.Access.Open(), (exchange, params) -> {
            Optional<String> problem = unready();
            if (problem.isPresent()) {
                throw new ApiException(
                        503, "Service Unavailable", problem.get(), List.of(), Map.of("Retry-After", "5"));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "ready");
            body.put("commit", config.active().orElseThrow().revision());
            exchanges.json(exchange, 200, body);
        });
        router.get("/metrics", (exchange, params) -> {
            byte[] text = metrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            Exchanges.send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", text);
        });
        router.get("/version", (exchange, params) -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("version", build.version());
            body.put("java", build.java());
            exchanges.json(exchange, 200, body);
        });
    }
}
