package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import overseer.config.ConfigSync;
import overseer.config.Snapshot;
import overseer.execution.Executions;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.schedule.Scheduler;
import overseer.store.Execution;
import overseer.store.ExecutionQuery;

/** {@code /jobs} and {@code /jobs/<job>}: the jobs of the active configuration. */
public final class JobRoutes {
    private static final int RECENT = 10;

    private final ConfigSync config;
    private final Executions executions;
    private final Exchanges exchanges;
    private final Scheduler scheduler;

    public JobRoutes(ConfigSync config, Executions executions, Exchanges exchanges, Scheduler scheduler) {
        this.config = config;
        this.executions = executions;
        this.exchanges = exchanges;
        this.scheduler = scheduler;
    }

    public void register(Router router) {
        router.get("/jobs", this::list);
        router.get("/jobs/{job}", this::show);
    }

    private void list(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Map<String, Execution> latest = executions.store().latest();
        var jobs = config.active()
                .map(s -> s.jobs().values().stream()
                        .map(j -> {
                            Map<String, Object> view = Views.jobSummary(j, scheduler::status);
                            view.put("enabled", executions.enabled(j.name().value()));
                            Execution last = latest.get(j.name().value());
                            view.put("last_execution", last == null ? null : Views.execution(last));
                            return view;
                        })
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
        Map<String, Object> view = Views.job(job, snapshot, scheduler::status);
        view.put("enabled", executions.enabled(name));
        view.put(
                "executions",
                executions
                        .store()
                        .executions(name, new ExecutionQuery(OptionalLong.empty(), Optional.empty(), RECENT))
                        .stream()
                        .map(Views::execution)
                        .toList());
        exchanges.json(exchange, 200, view);
    }
}
