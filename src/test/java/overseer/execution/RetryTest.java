package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code retry}: real failing processes, real waits of a fraction of a second. */
class RetryTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        Path counter = fixture.tmp().resolve("attempts");
        repo = fixture.repo();
        repo.with("flaky.yml", """
                        # Fails twice, then passes: the attempt count lives in a file.
                        command: |
                          : {{ password }}; n=$(cat %s 2>/dev/null || echo 0); n=$((n + 1)); echo $n > %s
                          echo "attempt $n of {{ target }}"; [ $n -ge 3 ]
                        vars:
                          - {name: target, required: true}
                          - {name: password, secret: true}
                        retry: {times: 3, delay: 0.2, backoff: 1.5}
                        """.formatted(counter, counter))
                .with("broken.yml", "command: exit 4\nretry: {times: 2, delay: 0.1}\n")
                .with("slow.yml", "command: sleep 30\nretry: {times: 2, delay: 0.1}\n")
                .with("later.yml", "command: exit 1\nretry: {times: 1, delay: 3}\n")
                .with("timeouts.yml", "command: sleep 30\ntimeout: 0.2\nretry: {times: 1, delay: 0.1, on: [fail]}\n")
                .commit("jobs");
        server = fixture.server();
    }

    @Test
    void aJobFailingTwiceThenPassingEndsWithThreeExecutionsLinkedByRetryOf() throws Exception {
        server.trigger("flaky", "{\"target\": \"db\", \"password\": \"hunter2\"}");
        JsonNode third =
                server.await("/jobs/flaky/3", e -> e.path("status").asText().equals("complete"));
        assertThat(third.path("trigger").asText()).isEqualTo("retry");
        assertThat(third.path("retry_of").asInt()).isEqualTo(1);
        assertThat(third.path("params").path("password").asText()).isEqualTo("***");
        assertThat(server.get("/jobs/flaky/3/stdout").body()).isEqualTo("attempt 3 of db\n");
        JsonNode first = server.json("/jobs/flaky/1");
        assertThat(first.path("status").asText()).isEqualTo("fail");
        List<String> chain = new ArrayList<>();
        first.path("retry_chain")
                .forEach(l -> chain.add(l.path("execution").asInt() + ":"
                        + l.path("trigger").asText() + ":" + l.path("status").asText()));
        assertThat(chain).containsExactly("1:api:fail", "2:retry:fail", "3:retry:complete");
        JsonNode second = server.json("/jobs/flaky/2");
        assertThat(second.path("commit").asText())
                .isEqualTo(first.path("commit").asText());
        // delay × backoff^k: the second retry is due 0.2 × 1.5 = 0.3 s after it was queued, which
        // was after the final event of the first retry was made; and it did not start before.
        // Ordering, not a time window: how long the machine took in between does not matter.
        Instant secondEnd = Instant.parse(second.path("finished_at").asText());
        Instant queued = Instant.parse(third.path("created_at").asText());
        Instant due = Instant.parse(third.path("not_before").asText());
        assertThat(queued).isAfterOrEqualTo(secondEnd);
        assertThat(Duration.between(queued, due)).isEqualTo(Duration.ofMillis(300));
        assertThat(Instant.parse(third.path("started_at").asText())).isAfterOrEqualTo(due);
        // A retry is stored before the end of the execution it retries: the third has ended,
        // so a fourth would already be there.
        assertThat(server.json("/jobs/flaky/executions").size()).isEqualTo(3);
    }

    @Test
    void anAlwaysFailingJobWithTimesTwoRunsExactlyThreeTimes() throws Exception {
        server.trigger("broken", "{}");
        server.await("/jobs/broken/3", e -> !e.path("finished_at").isNull());
        // A retry is stored before the end it follows, so with the third ended a fourth would be
        // listed now; no waiting needed to see that there is none.
        JsonNode all = server.json("/jobs/broken/executions");
        assertThat(all.size()).isEqualTo(3);
        all.forEach(e -> assertThat(e.path("status").asText()).isEqualTo("fail"));
    }

    @Test
    void aCallersKillIsNotRetriedAndNeitherIsATimeOutWhenOnlyFailIs() throws Exception {
        server.trigger("slow", "{}");
        server.await("/jobs/slow/1", e -> e.path("status").asText().equals("start"));
        server.put("/jobs/slow/1", "{\"event\": \"kill\"}");
        server.awaitFinished("slow", 1);
        server.trigger("timeouts", "{}");
        assertThat(server.awaitFinished("timeouts", 1).path("status").asText()).isEqualTo("time-out");
        // Retries are stored before the end they follow: both have ended, so none will come.
        assertThat(server.json("/jobs/slow/executions").size()).isEqualTo(1);
        assertThat(server.json("/jobs/timeouts/executions").size()).isEqualTo(1);
    }

    @Test
    void aPendingRetryIsVisibleAndIsCancelledByKillOrByDisablingTheJob() throws Exception {
        server.trigger("later", "{}");
        JsonNode pending =
                server.await("/jobs/later/2", e -> e.path("status").asText().equals("queued"));
        assertThat(pending.path("not_before").isNull()).isFalse();
        server.put("/jobs/later/2", "{\"event\": \"kill\"}");
        assertThat(server.awaitFinished("later", 2).path("status").asText()).isEqualTo("fail");
        server.trigger("later", "{}");
        server.await("/jobs/later/4", e -> e.path("status").asText().equals("queued"));
        server.delete("/jobs/later");
        JsonNode cancelled = server.awaitFinished("later", 4);
        assertThat(cancelled.path("events").get(1).path("cause").asText()).isEqualTo("job 'later' was disabled");
    }

    @Test
    void aRestartBetweenAttemptsKeepsThePendingRetry() throws Exception {
        server.trigger("later", "{}");
        server.await("/jobs/later/2", e -> e.path("status").asText().equals("queued"));
        fixture.stop();
        server = fixture.server();
        JsonNode retried = server.awaitFinished("later", 2);
        assertThat(retried.path("trigger").asText()).isEqualTo("retry");
        assertThat(Instant.parse(retried.path("started_at").asText()))
                .isAfterOrEqualTo(Instant.parse(retried.path("not_before").asText()));
    }

    @Test
    void aRetryThatCannotBeQueuedIsRecordedOnTheExecutionItRetries() throws Exception {
        fixture.stop();
        Path go = fixture.tmp().resolve("go");
        repo.with("gated.yml", """
                        command: while [ ! -e %s ]; do sleep 0.05; done; exit 4
                        retry: {times: 2, delay: 0.1}
                        """.formatted(go))
                .with("hold.yml", "command: sleep 30\n")
                .commit("gated");
        server = fixture.start(settings -> settings.maxConcurrent(2).maxQueued(1));
        server.trigger("gated", "{}");
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.path("status").asText().equals("start"));
        server.await("/jobs/gated/1", e -> e.path("status").asText().equals("start"));
        // The queue is full when gated/1 fails: its retry cannot be queued.
        server.trigger("hold", "{}");
        java.nio.file.Files.createFile(go);
        JsonNode failed = server.awaitFinished("gated", 1);
        assertThat(failed.path("status").asText()).isEqualTo("fail");
        assertThat(failed.path("retry_error").path("cause").asText())
                .isEqualTo("retry 1 of 2 not queued: the queue holds 1 executions; try again later");
        assertThat(Instant.parse(failed.path("retry_error").path("at").asText()))
                .isAfterOrEqualTo(Instant.parse(failed.path("finished_at").asText()));
        // A field, not an event: the final event stays the last. And a retry is stored before the
        // end it follows is recorded, so none will come.
        List<String> names = new ArrayList<>();
        failed.path("events").forEach(e -> names.add(e.path("name").asText()));
        assertThat(names).containsExactly("queued", "start", "fail");
        assertThat(server.json("/jobs/gated/executions").size()).isEqualTo(1);
        server.put("/jobs/hold/2", "{\"event\": \"kill\"}");
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
    }
}
