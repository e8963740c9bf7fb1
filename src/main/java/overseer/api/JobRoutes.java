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

    /**
     * All jobs by name, streamed one at a time (a large configuration is never one big buffer), or
     * a page of them: {@code limit} jobs after the name {@code after}, with a {@code Link} to the next page.
     */
    private void list(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Optional<Integer> limit =
                ExecutionRoutes.query(exchange, "limit").map(t -> ExecutionRoutes.parseInt("limit", t, 1, 10_000));
        Optional<String> after = ExecutionRoutes.query(exchange, "after");
        java.util.Collection<JobDefinition> all =
                config.active().map(s -> s.jobs().values()).orElse(java.util.List.of());
        java.util.List<JobDefinition> page = all.stream()
                .filter(j -> after.isEmpty() || j.name().value().compareTo(after.get()) > 0)
                .limit(limit.orElse(Integer.MAX_VALUE))
                .toList();
        if (limit.isPresent() && page.size() == limit.get() && !page.isEmpty()) {
            String last = page.getLast().name().value();
            boolean more = all.stream().anyMatch(j -> j.name().value().compareTo(last) > 0);
            if (more) {
                exchange.getResponseHeaders()
                        .put(
                                new io.undertow.util.HttpString("Link"),
                                "</jobs?limit=" + limit.get() + "&after=" + last + ">; rel=\"next\"");
            }
        }
        Map<String, Execution> latest = executions.store().latest();
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(io.undertow.util.Headers.CONTENT_TYPE, Exchanges.JSON);
        try (var json = exchanges.mapper().getFactory().createGenerator(Exchanges.output(exchange))) {
            json.writeStartArray();
            for (JobDefinition j : page) {
                Map<String, Object> view = Views.jobSummary(j, scheduler::status);
                view.put("enabled", executions.enabled(j.name().value()));
                Execution last = latest.get(j.name().value());
                view.put("last_execution", last == null ? null : Views.execution(last));
                exchanges.mapper().writeValue(json, view);
            }
            json.writeEndArray();
        }
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
