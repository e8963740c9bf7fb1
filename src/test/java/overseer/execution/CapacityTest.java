package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.FaultyStore;
import overseer.testing.MutableClock;
import overseer.testing.ServerFixture;
import overseer.testing.TestServer;

/** --max-concurrent, job concurrency with its overlap policies, and the bounded queue. */
class CapacityTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.jobs(
            "hold.yml", "command: sleep 30\n",
            "quick.yml", "command: \"true\"\n",
            "brief.yml", "command: sleep 0.1\n",
            "single.yml", "command: sleep 30\nconcurrency: 1\n",
            "skipper.yml", "command: sleep 30\nconcurrency: 1\noverlap: skip\n",
            "replacer.yml", "command: sleep 30\nconcurrency: 1\noverlap: replace\n",
            "tick.yml", "command: \"true\"\nschedule:\n  - {frequency: 60}\n");

    private static List<String> events(TestServer server, String job, int n) throws Exception {
        List<String> names = new ArrayList<>();
        server.json("/jobs/" + job + "/" + n)
                .get("events")
                .forEach(e -> names.add(e.get("name").asText()));
        return names;
    }

    @Test
    void aKillOfAQueuedExecutionIsRecordedTogetherWithItsCancellationOrNotAtAll() throws Exception {
        java.util.concurrent.atomic.AtomicReference<FaultyStore> faults =
                new java.util.concurrent.atomic.AtomicReference<>();
        TestServer server =
                fixture.start(settings -> settings.maxConcurrent(1).store(s -> FaultyStore.wrap(s, faults::set)));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        server.trigger("quick", "{}");
        // The cancellation's write fails: the kill is not acknowledged, so nothing of it stays.
        faults.get().failCall("cancelled", 1);
        assertThat(server.put("/jobs/quick/1", "{\"event\": \"kill\"}").statusCode())
                .isEqualTo(503);
        assertThat(events(server, "quick", 1)).containsExactly("queued");
        // Asked again, it is killed and cancelled in one step, and never starts.
        assertThat(server.put("/jobs/quick/1", "{\"event\": \"kill\"}").statusCode())
                .isEqualTo(200);
        assertThat(events(server, "quick", 1)).containsExactly("queued", "kill", "fail");
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        // A later queued execution starts in the freed slot: the cancelled one was not run before it.
        server.trigger("quick", "{}");
        server.awaitFinished("quick", 2);
        assertThat(events(server, "quick", 1)).containsExactly("queued", "kill", "fail");
    }

    @Test
    void aScheduledFireRefusedByAFullQueueIsRecordedAsSkippedWithTheCause() throws Exception {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-12-01T10:00:00Z"));
        TestServer server =
                fixture.start(settings -> settings.maxConcurrent(1).maxQueued(1).clock(clock));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        server.trigger("hold", "{}");
        clock.advance(java.time.Duration.ofSeconds(61));
        server.overseer().scheduler().tick();
        JsonNode fire = server.json("/jobs/tick/1");
        assertThat(fire.get("trigger").asText()).isEqualTo("schedule");
        assertThat(fire.get("status").asText()).isEqualTo("skipped");
        assertThat(fire.get("scheduled_at").asText()).isEqualTo("2026-12-01T10:01:00.000Z");
        assertThat(fire.get("finished_at").isNull()).isFalse();
        assertThat(server.json("/jobs/tick/1/skipped").get("cause").asText())
                .isEqualTo("the queue holds 1 executions; try again later");
        server.put("/jobs/hold/2", "{\"event\": \"kill\"}");
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
    }

    /**
     * A retry of {@code job} that another server on the same database queued for an hour from
     * now: unfinished in the store, and unknown to this server's memory.
     */
    private static long queuedElsewhere(overseer.store.Store store, String job) {
        java.time.Instant now = java.time.Instant.now();
        return store.create(
                        new overseer.store.NewExecution(
                                job,
                                "retry",
                                "c0ffee",
                                now,
                                "{}",
                                "{}",
                                0,
                                java.util.Optional.empty(),
                                java.util.UUID.randomUUID().toString(),
                                java.util.Optional.empty(),
                                overseer.store.NewExecution.Origin.retry(1, now.plusSeconds(3600)),
                                n -> new overseer.store.NewExecution.Prepared(
                                        "sleep 30", "{}", java.util.OptionalInt.of(1), java.util.List.of())),
                        overseer.store.Event.of("queued", "retry", now, "overseer"))
                .execution()
                .number();
    }

    /**
     * A job's limit counts what the store holds, whoever stored it: another server's queued
     * execution keeps an {@code overlap: skip} job at its limit, and {@code overlap: replace}
     * cancels it (before, this server's memory decided, and let both through).
     */
    @Test
    void aJobsLimitCountsTheExecutionsInTheStoreNotThoseThisServerRemembers() throws Exception {
        java.util.concurrent.atomic.AtomicReference<overseer.store.Store> stored =
                new java.util.concurrent.atomic.AtomicReference<>();
        TestServer server = fixture.start(settings -> settings.store(s -> {
            stored.set(s);
            return s;
        }));
        long elsewhere = queuedElsewhere(stored.get(), "skipper");
        HttpResponse<String> refused = server.postJson("/jobs/skipper", "{}");
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("already has 1 execution(s) and its overlap policy is skip");
        assertThat(server.json("/jobs/skipper/executions")).hasSize(1);

        long other = queuedElsewhere(stored.get(), "replacer");
        server.trigger("replacer", "{}");
        assertThat(events(server, "replacer", (int) other)).containsExactly("queued", "kill", "fail");
        assertThat(server.json("/jobs/replacer/" + other + "/kill").get("cause").asText())
                .isEqualTo("replaced by execution " + (other + 1));
        server.await(
                "/jobs/replacer/" + (other + 1), e -> e.get("status").asText().equals("start"));
        server.put("/jobs/replacer/" + (other + 1), "{\"event\": \"kill\"}");
        stored.get()
                .cancelled(
                        "skipper", elsewhere, overseer.store.Event.of("fail", "done", java.time.Instant.now(), "api"));
    }

    private static String status(TestServer server, String job, int n) throws Exception {
        return server.json("/jobs/" + job + "/" + n).get("status").asText();
    }

    @Test
    void runsOverTheLimitWaitInTheQueueUntilASlotFrees() throws Exception {
        TestServer server = fixture.start(settings -> settings.maxConcurrent(1));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        server.trigger("quick", "{}");
        // A trigger takes a slot or a place in the queue before its 201: one running and one
        // waiting now means quick is held back, and only a freed slot starts it.
        assertThat(server.gauge("overseer_running")).isEqualTo(1.0);
        assertThat(server.gauge("overseer_queue_depth")).isEqualTo(1.0);
        assertThat(status(server, "quick", 1)).isEqualTo("queued");
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        assertThat(server.awaitFinished("quick", 1).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void jobConcurrencyQueuesSkipsOrReplaces() throws Exception {
        TestServer server = fixture.server();
        server.trigger("single", "{}");
        server.trigger("single", "{}");
        server.await("/jobs/single/1", e -> e.get("status").asText().equals("start"));
        // Both were admitted before their 201s: the second waits in the queue, as a gauge
        // read now shows, not after a pause that would pass whether or not it started.
        assertThat(server.gauge("overseer_queue_depth")).isEqualTo(1.0);
        assertThat(status(server, "single", 2)).isEqualTo("queued");

        server.trigger("skipper", "{}");
        HttpResponse<String> skipped = server.postJson("/jobs/skipper", "{}");
        assertThat(skipped.statusCode()).isEqualTo(409);
        assertThat(skipped.body()).contains("overlap policy is skip");

        server.trigger("replacer", "{}");
        server.await("/jobs/replacer/1", e -> e.get("status").asText().equals("start"));
        server.trigger("replacer", "{}");
        JsonNode old = server.awaitFinished("replacer", 1);
        assertThat(old.get("status").asText()).isEqualTo("fail");
        assertThat(server.json("/jobs/replacer/1/kill").get("cause").asText()).isEqualTo("replaced by execution 2");
        server.await("/jobs/replacer/2", e -> e.get("status").asText().equals("start"));
        for (String job : List.of("single", "skipper", "replacer")) {
            for (JsonNode e : server.json("/jobs/" + job + "/executions")) {
                server.put("/jobs/" + job + "/" + e.get("execution").asText(), "{\"event\": \"kill\"}");
            }
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        TestServer server = fixture.start(settings -> settings.maxConcurrent(1).maxQueued(2));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        server.trigger("hold", "{}");
        server.trigger("hold", "{}");
        HttpResponse<String> full = server.postJson("/jobs/hold", "{}");
        assertThat(full.statusCode()).isEqualTo(503);
        assertThat(full.headers().firstValue("Retry-After")).isPresent();
        assertThat(server.put("/jobs/hold/3", "{\"event\": \"kill\"}").statusCode())
                .isEqualTo(200);
        assertThat(server.json("/jobs/hold/3/fail").get("cause").asText())
                .isEqualTo("cancelled by 'kill' before it started");
        assertThat(server.postJson("/jobs/hold", "{}").statusCode()).isEqualTo(201);
        for (int n = 1; n <= 4; n++) {
            server.put("/jobs/hold/" + n, "{\"event\": \"kill\"}");
        }
    }

    @Test
    void twoHundredConcurrentTriggersGetOnly201Or503AndAllFinish() throws Exception {
        TestServer server = fixture.start(settings -> settings.maxConcurrent(4).maxQueued(100));
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        List<Integer> created = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService clients = Executors.newFixedThreadPool(8)) {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                calls.add(clients.submit(() -> {
                    HttpResponse<String> r = server.postJson("/jobs/brief", "{}");
                    statuses.merge(r.statusCode(), 1, Integer::sum);
                    if (r.statusCode() == 201) {
                        created.add(TestServer.parse(r.body()).get("execution").asInt());
                    }
                    return null;
                }));
            }
            for (Future<?> f : calls) {
                f.get();
            }
        }
        // 200 triggers arrive far faster than 4 slots run 0.1 s jobs: the queue fills.
        assertThat(statuses.keySet()).containsExactlyInAnyOrder(201, 503);
        assertThat(statuses.get(201)).isGreaterThanOrEqualTo(100);
        for (int n : created) {
            assertThat(server.awaitFinished("brief", n).get("status").asText()).isEqualTo("complete");
        }
        assertThat(created).doesNotHaveDuplicates();
    }
}
