package overseer.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * What an operator alerts on, in the Prometheus text format ({@code GET /metrics}). Labels hold
 * only bounded values: job names, statuses, reasons, route templates; never raw paths or values a
 * job supplied. One instance, made where the server is wired and handed to what it counts.
 */
public final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** With the JVM's and the process's basics (memory, GC, threads, CPU, uptime). */
    public static Metrics withJvm() {
        Metrics m = new Metrics();
        new JvmMemoryMetrics().bindTo(m.registry);
        new JvmGcMetrics().bindTo(m.registry);
        new JvmThreadMetrics().bindTo(m.registry);
        new ProcessorMetrics().bindTo(m.registry);
        new UptimeMetrics().bindTo(m.registry);
        return m;
    }

    /** Only what Overseer counts: for tests and tools that read no JVM figures. */
    public static Metrics none() {
        return new Metrics();
    }

    private Metrics() {}

    public void executionStarted(String job) {
        Counter.builder("overseer_executions_started")
                .tag("job", job)
                .register(registry)
                .increment();
    }

    /** An execution's end with its final status, and how long it ran (absent when it never started). */
    public void executionFinished(String job, String status, java.util.Optional<Duration> ran) {
        Counter.builder("overseer_executions_finished")
                .tag("job", job)
                .tag("status", status)
                .register(registry)
                .increment();
        ran.ifPresent(d -> Timer.builder("overseer_execution_duration")
                .tag("job", job)
                .publishPercentileHistogram()
                .register(registry)
                .record(d));
    }

    /** A trigger refused, by reason (queue full, disabled, …). */
    public void refused(String reason) {
        Counter.builder("overseer_triggers_refused")
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    /** A sync of the configuration, by its outcome (applied, unchanged, invalid, failed). */
    public void configSync(String result) {
        Counter.builder("overseer_config_syncs")
                .tag("result", result)
                .register(registry)
                .increment();
    }

    public void delivery(String result) {
        Counter.builder("overseer_webhook_deliveries")
                .tag("result", result)
                .register(registry)
                .increment();
    }

    /** A scheduled fire that was neither run nor recorded as skipped (the store failed too). */
    public void fireLost(String job) {
        Counter.builder("overseer_schedule_fires_lost")
                .tag("job", job)
                .register(registry)
                .increment();
    }

    /** How late a schedule fire was recorded after its due time. */
    public void fireDelay(Duration delay) {
        Timer.builder("overseer_schedule_fire_delay")
                .publishPercentileHistogram()
                .register(registry)
                .record(delay.isNegative() ? Duration.ZERO : delay);
    }

    /** A request, by route template (never the raw path), method and status. */
    public void request(String route, String method, int status, Duration took) {
        Timer.builder("overseer_http_requests")
                .tag("route", route)
                .tag("method", method)
                .tag("status", Integer.toString(status))
                .register(registry)
                .record(took);
    }

    /** A value read when scraped. */
    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, () -> {
                    Number n = value.get();
                    return n == null ? Double.NaN : n.doubleValue();
                })
                .description(description)
                .register(registry);
    }

    /** A value read when scraped, with fixed tags (bounded values only). */
    public void gauge(
            String name,
            String description,
            java.util.List<java.util.Map.Entry<String, String>> tags,
            Supplier<Number> value) {
        var b = Gauge.builder(name, () -> {
                    Number n = value.get();
                    return n == null ? Double.NaN : n.doubleValue();
                })
                .description(description);
        for (java.util.Map.Entry<String, String> t : tags) {
            b = b.tag(t.getKey(), t.getValue());
        }
        b.register(registry);
    }

    /** A round of a background service that failed, by service name. */
    public void serviceFailure(String service) {
        Counter.builder("overseer_service_failures")
                .tag("service", service)
                .register(registry)
                .increment();
    }

    /** The text format of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}
