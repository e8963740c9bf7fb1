package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.time.Clock;
import java.util.Map;
import overseer.config.ConfigSync;
import overseer.config.Snapshot;
import overseer.job.JobDefinition;
import overseer.job.JobName;

/** {@code /jobs} and {@code /jobs/<job>}: the jobs of the active configuration. */
public final class JobRoutes {
    private final ConfigSync config;
    private final Exchanges exchanges;
    private final Clock clock;

    public JobRoutes(ConfigSync config, Exchanges exchanges, Clock clock) {
        this.config = config;
        this.exchanges = exchanges;
        this.clock = clock;
    }

    public void register(Router router) {
        router.get("/jobs", this::list);
        router.get("/jobs/{job}", this::show);
    }

    private void list(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        var jobs = config.active()
                .map(s -> s.jobs().values().stream()
                        .map(j -> Views.jobSummary(j, clock.instant()))
                        .toList())
                .orElse(java.util.List.of());
        exchanges.json(exchange, 200, jobs);
    }

    private void show(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        String name = params.get("job");
        Snapshot snapshot = config.active().orElseThrow(() -> ApiException.notFound("no configuration is active yet"));
        JobDefinition job = (JobName.isValid(name)
                        ? snapshot.job(new JobName(name))
                        : java.util.Optional.<JobDefinition>empty())
                .orElseThrow(() -> ApiException.notFound("no job named '" + name + "'"));
        exchanges.json(exchange, 200, Views.job(job, snapshot, clock.instant()));
    }
}
