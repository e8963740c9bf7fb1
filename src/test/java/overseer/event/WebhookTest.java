package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import overseer.service.Supervisor;
import overseer.testing.FaultyStore;
import overseer.testing.Receiver;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;
import overseer.testing.TricklingReceiver;

/** Webhooks end to end: a real server, real jobs, a real receiver on 127.0.0.1. */
class WebhookTest {
    private static final byte[] KEY = "a key of thirty-two bytes, or so".getBytes(StandardCharsets.UTF_8);
    private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(KEY);
    private static final String RAW_SECRET = "plain-secret-value-4711";
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final Supervisor.Settings QUICK_BACKOFF = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @TempDir
    Path tmp;

    TestRepo repo;
    TestServer server;
    Receiver receiver;

    @BeforeEach
    void start() throws Exception {
        receiver = Receiver.start();
        repo = TestRepo.create(tmp.resolve("repo"));
    }

    private void serve(Map<String, String> env) throws Exception {
        server = TestServer.on(repo.url(), tmp.resolve("data"))
                .environment(env)
                .webhookRetry("200ms")
                .start();
    }

    private void serve() throws Exception {
        serve(Map.of("HOOK_SECRET", SECRET, "RAW_SECRET", RAW_SECRET));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        repo.close();
        receiver.close();
    }

    private TestRepo allEventsTo(String path) throws Exception {
        return repo.with("overseer.yml", """
                hooks:
                  - url: %s
                    events: ["*"]
                    secret: ${HOOK_SECRET}
                """.formatted(receiver.url(path)));
    }

    @Test
    void theReceiverGetsEveryEventInOrderSignedWithTheStandardWebhooksScheme() throws Exception {
        allEventsTo("/all").with("deploy.yml", """
                        command: event built "image 42"; event deployed; echo "$HOOK_SECRET"
                        vars:
                          - {name: password, secret: true}
                          - {name: target}
                        """).commit("jobs");
        serve();
        server.trigger("deploy", "{\"password\": \"hunter2\", \"target\": \"web\"}");
        server.awaitFinished("deploy", 1);
        List<Receiver.Request> got = receiver.await(r -> r.size() >= 5, LIMIT);
        assertThat(got).hasSize(5);
        List<String> names = got.stream()
                .map(r -> json(r.body()).path("event").path("name").asText())
                .toList();
        assertThat(names).containsExactly("queued", "start", "built", "deployed", "complete");
        for (Receiver.Request r : got) {
            String expected = "v1,"
                    + Base64.getEncoder()
                            .encodeToString(hmacSha256(
                                    KEY,
                                    (r.header("webhook-id") + "." + r.header("webhook-timestamp") + "." + r.body())
                                            .getBytes(StandardCharsets.UTF_8)));
            assertThat(r.header("webhook-signature")).isEqualTo(expected);
            assertThat(r.header("webhook-id")).startsWith("msg_");
            assertThat(Long.parseLong(r.header("webhook-timestamp")))
                    .isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
            assertThat(r.header("content-type")).isEqualTo("application/json");
            assertThat(r.body()).doesNotContain("hunter2");
        }
        JsonNode built = json(got.get(2).body());
        assertThat(built.path("job").asText()).isEqualTo("deploy");
        assertThat(built.path("execution").asLong()).isEqualTo(1);
        assertThat(built.path("status").asText()).isEqualTo("built");
        assertThat(built.path("event").path("cause").asText()).isEqualTo("image 42");
        assertThat(built.path("metadata").asText())
                .isEqualTo(server.uri("/jobs/deploy/1").toString());
        assertThat(built.path("commit").asText()).hasSize(40);
        assertThat(built.path("params").path("password").asText()).isEqualTo("***");
        assertThat(built.has("exit_code")).isFalse();
        JsonNode complete = json(got.get(4).body());
        assertThat(complete.path("exit_code").asInt()).isZero();
        assertThat(complete.path("duration_ms").isIntegralNumber()).isTrue();
        // The hook's secret is in no response (WebhookJarIT checks the job's environment).
        assertThat(server.get("/jobs/deploy/1/stdout").body().strip()).isEqualTo("*** web");
        for (String path : List.of("/config", "/jobs", "/jobs/deploy", "/jobs/deploy/1", "/deliveries")) {
            assertThat(server.get(path).body()).doesNotContain(SECRET).doesNotContain(RAW_SECRET);
        }
        JsonNode shown = server.json("/jobs/deploy/1");
        JsonNode deliveries = shown.path("events").get(2).path("deliveries");
        assertThat(deliveries).hasSize(1);
        assertThat(deliveries.get(0).path("state").asText()).isEqualTo("delivered");
        assertThat(deliveries.get(0).path("attempts").asInt()).isEqualTo(1);
        assertThat(deliveries.get(0).path("last_status").asInt()).isEqualTo(200);
    }

    @Test
    void aFailingReceiverGetsTheSameDeliveryAgainUntilItAccepts() throws Exception {
        repo.with("job.yml", """
                        command: "true"
                        hooks:
                          - url: %s
                            events: [complete]
                            secret: ${RAW_SECRET}
                        """.formatted(receiver.url("/job"))).commit("jobs");
        receiver.answer(500, 500);
        serve();
        server.trigger("job", "{}");
        List<Receiver.Request> got = receiver.await(r -> r.size() >= 3, LIMIT);
        assertThat(got.stream().map(r -> r.header("webhook-id")).distinct()).hasSize(1);
        Receiver.Request last = got.get(2);
        assertThat(last.header("webhook-signature"))
                .isEqualTo("v1,"
                        + Base64.getEncoder()
                                .encodeToString(hmacSha256(
                                        RAW_SECRET.getBytes(StandardCharsets.UTF_8),
                                        (last.header("webhook-id") + "." + last.header("webhook-timestamp") + "."
                                                        + last.body())
                                                .getBytes(StandardCharsets.UTF_8))));
        JsonNode delivery = server.await(
                        "/jobs/job/1",
                        e -> e.path("events")
                                .get(2)
                                .path("deliveries")
                                .get(0)
                                .path("state")
                                .asText()
                                .equals("delivered"))
                .path("events")
                .get(2)
                .path("deliveries")
                .get(0);
        assertThat(delivery.path("attempts").asInt()).isEqualTo(3);
        // A later execution's delivery comes after any resend of the first would have been due.
        server.trigger("job", "{}");
        List<Receiver.Request> all = receiver.await(r -> r.size() >= 4, LIMIT);
        assertThat(all.get(3).header("webhook-id")).isNotEqualTo(last.header("webhook-id"));
        assertThat(all.stream().filter(r -> r.header("webhook-id").equals(last.header("webhook-id"))))
                .hasSize(3);
    }

    @Test
    void aReceiverThatWasDownGetsEverythingInOrderOnceBack() throws Exception {
        receiver.close();
        allEventsTo("/back").with("step.yml", "command: event one; event two\n").commit("jobs");
        serve();
        for (int i = 0; i < 3; i++) {
            server.trigger("step", "{}");
        }
        for (int n = 1; n <= 3; n++) {
            server.awaitFinished("step", n);
        }
        server.await("/deliveries?state=failing", list -> list.size() >= 3);
        receiver.up();
        List<Receiver.Request> got = receiver.await(r -> r.size() >= 15, LIMIT);
        for (int n = 1; n <= 3; n++) {
            int execution = n;
            List<String> names = got.stream()
                    .map(r -> json(r.body()))
                    .filter(b -> b.path("execution").asInt() == execution)
                    .map(b -> b.path("event").path("name").asText())
                    .toList();
            assertThat(names).containsExactly("queued", "start", "one", "two", "complete");
        }
    }

    @Test
    void goneStopsRetriesAndAnAdminCanSendItAgain() throws Exception {
        allEventsTo("/gone").with("quick.yml", "description: nothing to run\n").commit("jobs");
        receiver.answer(410);
        serve();
        server.trigger("quick", "{}");
        server.awaitFinished("quick", 1);
        receiver.await(r -> r.size() >= 3, LIMIT);
        JsonNode failed = server.await("/deliveries?state=failed", list -> list.size() == 1);
        assertThat(failed.get(0).path("last_status").asInt()).isEqualTo(410);
        assertThat(failed.get(0).path("event").asText()).isEqualTo("queued");
        String id = failed.get(0).path("id").asText();
        // A second execution's three deliveries come after any resend of the gone one would have been due.
        server.trigger("quick", "{}");
        List<Receiver.Request> later = receiver.await(r -> r.size() >= 6, LIMIT);
        assertThat(later.stream().filter(r -> r.header("webhook-id").equals(id)))
                .hasSize(1);
        assertThat(server.post("/deliveries/" + id + "/retry", "").statusCode()).isEqualTo(202);
        List<Receiver.Request> again = receiver.await(r -> r.size() >= 7, LIMIT);
        assertThat(again).hasSize(7);
        assertThat(again.get(6).header("webhook-id")).isEqualTo(id);
        assertThat(server.post("/deliveries/" + id + "/retry", "").statusCode()).isEqualTo(409);
    }

    @Test
    void aHookWithoutItsSecretIsDisabledWithAWarningAndJobsStillRun() throws Exception {
        Receiver other = Receiver.start();
        try {
            allEventsTo("/unsigned")
                    .with("plain.yml", """
                            command: "true"
                            hooks:
                              - url: %s
                                events: [complete]
                            """.formatted(other.url("/unsigned-too")))
                    .commit("jobs");
            disabledHookSendsNothing(other);
        } finally {
            other.close();
        }
    }

    private void disabledHookSendsNothing(Receiver other) throws Exception {
        serve(Map.of());
        JsonNode config = server.json("/config");
        assertThat(config.path("warnings")).hasSize(1);
        assertThat(config.path("warnings").get(0).path("text").asText())
                .matches("overseer\\.yml:4:13: hook http://127\\.0\\.0\\.1:\\d+/unsigned is disabled: the server"
                        + " environment variable HOOK_SECRET that holds its secret is not set");
        server.trigger("plain", "{}");
        assertThat(server.awaitFinished("plain", 1).path("status").asText()).isEqualTo("complete");
        // The hook without a secret gets the last event; the disabled one would have had the first ones before it.
        other.await(r -> r.size() >= 1, LIMIT);
        assertThat(receiver.received()).isEmpty();
    }

    @Test
    void aTestPingIsSignedAndAnsweredWithTheReceiversStatus() throws Exception {
        allEventsTo("/ping").with("plain.yml", "command: \"true\"\n").commit("jobs");
        serve();
        receiver.answer(204);
        JsonNode answer = TestServer.parse(server.post(
                        "/hooks/test?url=" + java.net.URLEncoder.encode(receiver.url("/ping"), StandardCharsets.UTF_8),
                        "")
                .body());
        assertThat(answer.path("status").asInt()).isEqualTo(204);
        assertThat(answer.path("ok").asBoolean()).isTrue();
        Receiver.Request ping = receiver.received().getFirst();
        assertThat(json(ping.body()).path("event").path("name").asText()).isEqualTo("ping");
        assertThat(ping.header("webhook-signature")).startsWith("v1,");
        assertThat(server.post("/hooks/test?url=http://elsewhere.example/", "").statusCode())
                .isEqualTo(404);
    }

    private TestRepo quickJobWithHookTo(String path) throws Exception {
        return repo.with("overseer.yml", """
                        hooks:
                          - url: %s
                            events: [queued]
                        """.formatted(receiver.url(path)))
                .with("quick.yml", "description: nothing to run\n");
    }

    private int storedNumber;

    /**
     * Pending deliveries written straight into the database before the server starts, as an
     * earlier version could have stored them: each of its own execution, all older than anything
     * the test makes afterwards.
     */
    private void storedBeforeStart(String hookKey, String url, int count) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        long now = System.currentTimeMillis();
        try (Connection c = overseer.testing.ServerStores.connect(data);
                PreparedStatement s = c.prepareStatement("INSERT INTO deliveries (id, job, number, seq, event,"
                        + " hook_key, url, payload, state, attempts, next_attempt_at, created_at, expires_at)"
                        + " VALUES (?, 'old', ?, 1, 'queued', ?, ?, '{}', 'pending', 0, ?, ?, ?)")) {
            for (int i = 0; i < count; i++) {
                int number = ++storedNumber;
                long at = now - 3_600_000 + number;
                s.setString(1, "msg_stored_" + number);
                s.setLong(2, number);
                s.setString(3, hookKey);
                s.setString(4, url);
                s.setLong(5, at);
                s.setLong(6, at);
                s.setLong(7, now + 86_400_000);
                s.executeUpdate();
            }
        }
    }

    private FaultyStore serveWithFaults(String retry) throws Exception {
        AtomicReference<FaultyStore> faults = new AtomicReference<>();
        server = TestServer.on(repo.url(), tmp.resolve("data"))
                .environment(Map.of())
                .webhookRetry(retry)
                .store(s -> FaultyStore.wrap(s, faults::set))
                .services(QUICK_BACKOFF)
                .start();
        return faults.get();
    }

    @Test
    void hookUrlsThatCannotBeSentToAreRefusedWhereTheyAreWrittenWithoutTheirCredentials() throws Exception {
        repo.with("quick.yml", "description: nothing to run\n").commit("good");
        try (Logs logs = Logs.capture()) {
            serve();
            repo.with("overseer.yml", """
                            hooks:
                              - url: http://h:70000/
                              - url: http://user:hunter2@h:0/
                              - url: ftp://user:hunter2@h/
                              - url: http://user:hunter2@h_x/
                              - url: "http://user:hunter2@h/a b"
                            """).commit("bad");
            JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
            assertThat(status.path("result").asText()).isEqualTo("invalid");
            List<String> problems = new java.util.ArrayList<>();
            server.json("/config")
                    .path("problems")
                    .forEach(p -> problems.add(p.path("file").asText() + ":"
                            + p.path("line").asInt() + ":" + p.path("column").asInt() + ": "
                            + p.path("message").asText()));
            assertThat(problems)
                    .containsExactly(
                            "overseer.yml:2:10: hook 'url' has port 70000; a port is 1 to 65535",
                            "overseer.yml:3:10: hook 'url' has port 0; a port is 1 to 65535",
                            "overseer.yml:4:10: hook 'url' must be an http or https URL, not 'ftp'",
                            "overseer.yml:5:10: hook 'url' has no valid host name",
                            "overseer.yml:6:10: hook 'url' is not a valid URL: Illegal character in path at index 23");
            assertThat(server.get("/config").body()).doesNotContain("hunter2");
            assertThat(logs.lines())
                    .anyMatch(l -> l.contains("overseer.yml:3:10"))
                    .noneMatch(l -> l.contains("hunter2"));
        }
    }

    @Test
    void deliveriesStoredWithUnusableUrlsFailAndTheOtherHooksStillGetTheirs() throws Exception {
        // Four hooks of sixteen deliveries each: enough to take every slot if an attempt could hold one.
        List<String> bad = List.of("http://h:70000/", "http://user:pw@h:65536/", "http://h_x:8080/", "ftp://h/");
        for (String url : bad) {
            storedBeforeStart("bad-" + bad.indexOf(url), url, 16);
        }
        quickJobWithHookTo("/good").commit("jobs");
        serve();
        server.trigger("quick", "{}");
        assertThat(receiver.await(r -> r.size() >= 1, LIMIT)).hasSize(1);
        JsonNode failed = server.await("/deliveries?state=failed&limit=100", list -> list.size() == 64);
        for (JsonNode d : failed) {
            assertThat(d.path("attempts").asInt()).isEqualTo(1);
            assertThat(d.path("last_error").asText())
                    .startsWith("not a usable URL: ")
                    .doesNotContain("pw");
            assertThat(d.path("url").asText()).doesNotContain("pw");
        }
    }

    @Test
    void aHookAtItsCapDoesNotHoldBackTheOthers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Receiver slow = Receiver.start().holdUntil(release);
        try {
            // 80 deliveries to one slow hook, all older than the one the good hook is to get.
            storedBeforeStart("slow", slow.url("/slow"), 80);
            quickJobWithHookTo("/good").commit("jobs");
            serve();
            slow.await(r -> r.size() >= 16, LIMIT);
            server.trigger("quick", "{}");
            assertThat(receiver.await(r -> r.size() >= 1, LIMIT)).hasSize(1);
            assertThat(slow.received()).as("the slow hook stays at its cap").hasSize(16);
            release.countDown();
            assertThat(slow.await(r -> r.size() >= 80, LIMIT)).hasSize(80);
        } finally {
            release.countDown();
            slow.close();
        }
    }

    @Test
    void aFailedLookForDueDeliveriesIsRetriedWithBackoffAndLoggedOnce() throws Exception {
        quickJobWithHookTo("/good").commit("jobs");
        try (Logs logs = Logs.capture()) {
            FaultyStore faults = serveWithFaults("200ms");
            faults.failCalls("claimDeliveries", 1, 4, () -> new IllegalStateException("injected: no database"));
            server.trigger("quick", "{}");
            assertThat(receiver.await(r -> r.size() >= 1, LIMIT)).hasSize(1);
            assertThat(faults.failures("claimDeliveries")).isEqualTo(4);
            logs.await(l -> l.contains("webhook-dispatcher: recovered after 4 failed attempt(s)"));
            assertThat(logs.lines()).filteredOn(l -> l.contains("injected")).hasSize(1);
        }
    }

    @Test
    void outcomesThatCannotBeSavedHoldTheirDeliveryInsteadOfSendingItAgain() throws Exception {
        quickJobWithHookTo("/failing").commit("jobs");
        for (int i = 0; i < 50; i++) {
            receiver.answer(500);
        }
        try (Logs logs = Logs.capture()) {
            FaultyStore faults = serveWithFaults("5s");
            faults.failCalls(
                    "deliveriesAttempted", 1, 15, () -> new overseer.store.StoreException("injected: disk full", null));
            server.trigger("quick", "{}");
            receiver.await(r -> r.size() >= 1, LIMIT);
            // Fifteen failed saves with a backoff from 50 ms to 200 ms take more than 2 s; then the outcome is saved.
            JsonNode failing = server.await(
                    "/deliveries?state=failing",
                    list -> list.size() == 1 && list.get(0).path("attempts").asInt() == 1);
            assertThat(faults.failures("deliveriesAttempted")).isEqualTo(15);
            assertThat(failing.get(0).path("last_status").asInt()).isEqualTo(500);
            assertThat(receiver.received())
                    .as("sent once while its outcome could not be saved")
                    .hasSize(1);
            logs.await(l -> l.contains("webhook-recorder: recovered after 15 failed attempt(s)"));
            assertThat(logs.lines()).filteredOn(l -> l.contains("injected")).hasSize(1);
        }
    }

    @Test
    void aReceiverThatTricklesItsAnswerFailsAtTheDeadlineAndTheOthersKeepReceiving() throws Exception {
        try (TricklingReceiver slow = TricklingReceiver.start(Duration.ofSeconds(3))) {
            // Four hooks of sixteen: every slot, each held by an answer that is never complete.
            for (int hook = 0; hook < 4; hook++) {
                storedBeforeStart("slow-" + hook, slow.url("/slow-" + hook), 16);
            }
            quickJobWithHookTo("/good").commit("jobs");
            server = TestServer.on(repo.url(), tmp.resolve("data"))
                    .environment(Map.of())
                    .webhookRetry("1h")
                    .start();
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (slow.requests() < 64 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(slow.requests()).isEqualTo(64);
            long started = System.nanoTime();
            server.trigger("quick", "{}");
            receiver.await(r -> r.size() >= 1, Duration.ofSeconds(30));
            Duration waited = Duration.ofNanos(System.nanoTime() - started);
            assertThat(waited).isLessThan(Duration.ofSeconds(20));
            JsonNode failing = server.await("/deliveries?state=failing&limit=100", list -> list.size() == 64);
            assertThat(failing.get(0).path("last_error").asText()).isEqualTo("no complete answer within 10 s");
        }
    }

    /** The server's log lines (services, webhooks, configuration), as formatted, while open. */
    private static final class Logs implements AutoCloseable {
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        private final List<ch.qos.logback.classic.Logger> loggers;

        private Logs(String... names) {
            loggers = java.util.stream.Stream.of(names)
                    .map(name -> (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(name))
                    .toList();
            appender.start();
            loggers.forEach(l -> l.addAppender(appender));
        }

        static Logs capture() {
            return new Logs("overseer.service", "overseer.event", "overseer.config");
        }

        List<String> lines() {
            synchronized (appender) {
                return appender.list.stream()
                        .map(ILoggingEvent::getFormattedMessage)
                        .toList();
            }
        }

        void await(java.util.function.Predicate<String> line) throws InterruptedException {
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (lines().stream().noneMatch(line)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no such line in the log: " + lines());
                }
                Thread.sleep(20);
            }
        }

        @Override
        public void close() {
            loggers.forEach(l -> l.detachAppender(appender));
        }
    }

    private static JsonNode json(String body) {
        try {
            return TestServer.parse(body);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** HMAC (RFC 2104) over SHA-256, written out here so that the check does not share the server's code. */
    static byte[] hmacSha256(byte[] key, byte[] message) throws Exception {
        int block = 64;
        if (key.length > block) {
            key = MessageDigest.getInstance("SHA-256").digest(key);
        }
        byte[] padded = java.util.Arrays.copyOf(key, block);
        byte[] inner = new byte[block];
        byte[] outer = new byte[block];
        for (int i = 0; i < block; i++) {
            inner[i] = (byte) (padded[i] ^ 0x36);
            outer[i] = (byte) (padded[i] ^ 0x5c);
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(inner);
        byte[] innerHash = sha.digest(message);
        sha.update(outer);
        return sha.digest(innerHash);
    }
}
