package overseer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code GET /metrics} after known executions: the counts, and text that follows the Prometheus format. */
class MetricsTest {
    /** A sample line of the text format: a name, optional labels, a value. */
    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? "
                    + "(-?[0-9.]+(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)( [0-9]+)?");

    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*");

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void countsExecutionsRefusalsAndRequestsByBoundedLabels() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("ok.yml", "command: echo ok\n")
                .with("bad.yml", "command: exit 2\n")
                .commit("jobs");
        TestServer server = fixture.server();
        for (int i = 1; i <= 2; i++) {
            server.trigger("ok", "{}");
            server.awaitFinished("ok", i);
        }
        server.trigger("bad", "{}");
        server.awaitFinished("bad", 1);
        server.delete("/jobs/bad");
        assertThat(server.post("/jobs/bad", "").statusCode()).isEqualTo(409);
        HttpResponse<String> scrape = server.get("/metrics");
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        Map<String, Double> samples = new HashMap<>();
        for (String line : scrape.body().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                assertThat(line).matches(COMMENT);
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        assertThat(samples).containsEntry("overseer_executions_started_total{job=\"ok\"}", 2.0);
        assertThat(samples).containsEntry("overseer_executions_finished_total{job=\"ok\",status=\"complete\"}", 2.0);
        assertThat(samples).containsEntry("overseer_executions_finished_total{job=\"bad\",status=\"fail\"}", 1.0);
        assertThat(samples).containsEntry("overseer_execution_duration_seconds_count{job=\"ok\"}", 2.0);
        assertThat(samples).containsEntry("overseer_triggers_refused_total{reason=\"disabled\"}", 1.0);
        assertThat(samples).containsEntry("overseer_queue_depth", 0.0);
        assertThat(samples).containsEntry("overseer_running", 0.0);
        assertThat(samples).containsEntry("overseer_webhook_backlog", 0.0);
        assertThat(samples).containsEntry("overseer_config_syncs_total{result=\"applied\"}", 1.0);
        // Two executions wrote "ok" and a newline to stdout (one stream alone needs no index).
        assertThat(samples.get("overseer_executions_disk_bytes")).isEqualTo(6.0);
        assertThat(samples.get("overseer_database_bytes")).isPositive();
        assertThat(samples)
                .containsEntry(
                        "overseer_http_requests_seconds_count{method=\"POST\",route=\"/jobs/{job}\",status=\"201\"}",
                        3.0);
        assertThat(samples.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"));
        // Labels hold route templates, never the paths called.
        assertThat(scrape.body()).doesNotContain("route=\"/jobs/ok").doesNotContain("route=\"/jobs/bad");
    }
}
