package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.Receiver;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Webhooks end to end: a real server, real jobs, a real receiver on 127.0.0.1. */
class WebhookTest {
    private static final byte[] KEY = "a key of thirty-two bytes, or so".getBytes(StandardCharsets.UTF_8);
    private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(KEY);
    private static final String RAW_SECRET = "plain-secret-value-4711";
    private static final Duration LIMIT = Duration.ofSeconds(20);

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
        Thread.sleep(500);
        assertThat(receiver.received()).hasSize(3);
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
        Thread.sleep(600);
        assertThat(receiver.received()).hasSize(3);
        String id = failed.get(0).path("id").asText();
        assertThat(server.post("/deliveries/" + id + "/retry", "").statusCode()).isEqualTo(202);
        List<Receiver.Request> again = receiver.await(r -> r.size() >= 4, LIMIT);
        assertThat(again.get(3).header("webhook-id")).isEqualTo(id);
        assertThat(server.post("/deliveries/" + id + "/retry", "").statusCode()).isEqualTo(409);
    }

    @Test
    void aHookWithoutItsSecretIsDisabledWithAWarningAndJobsStillRun() throws Exception {
        allEventsTo("/unsigned").with("plain.yml", "command: \"true\"\n").commit("jobs");
        serve(Map.of());
        JsonNode config = server.json("/config");
        assertThat(config.path("warnings")).hasSize(1);
        assertThat(config.path("warnings").get(0).path("text").asText())
                .matches("overseer\\.yml:4:13: hook http://127\\.0\\.0\\.1:\\d+/unsigned is disabled: the server"
                        + " environment variable HOOK_SECRET that holds its secret is not set");
        server.trigger("plain", "{}");
        assertThat(server.awaitFinished("plain", 1).path("status").asText()).isEqualTo("complete");
        Thread.sleep(300);
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
