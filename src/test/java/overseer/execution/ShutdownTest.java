package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** On shutdown, running executions get a grace period, then are terminated with the reason recorded. */
class ShutdownTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void executionsFinishWithinTheGraceOrAreTerminatedWithACause() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("short.yml", "command: sleep 0.5; echo finished\n")
                .with("long.yml", "command: sleep 600\n")
                .with("queued.yml", "command: echo later\n")
                .commit("jobs");
        Path data = fixture.data();
        TestServer server = fixture.start(settings ->
                settings.maxConcurrent(2).shutdownGrace(Duration.ofSeconds(2)).killGrace(Duration.ofMillis(500)));
        server.trigger("short", "{}");
        server.trigger("long", "{}");
        server.trigger("queued", "{}");
        server.await("/jobs/long/1", e -> e.get("status").asText().equals("start"));
        fixture.stop();

        TestServer again = fixture.server();
        assertThat(again.json("/jobs/short/1").get("status").asText()).isEqualTo("complete");
        assertThat(again.json("/jobs/long/1").get("status").asText()).isEqualTo("fail");
        assertThat(again.json("/jobs/long/1/terminate").get("cause").asText()).isEqualTo("the server is shutting down");
        assertThat(again.json("/jobs/long/1/fail").get("cause").asText()).isEqualTo("killed by signal 15 (SIGTERM)");
        // The queued execution waited in the store and runs after the restart.
        assertThat(again.awaitFinished("queued", 1).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void shutdownEndsClientsThatFollowOrWaitForAQueuedExecution() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("long.yml", "command: sleep 600\n").commit("jobs");
        TestServer server = fixture.start(settings ->
                settings.maxConcurrent(1).shutdownGrace(Duration.ofMillis(200)).killGrace(Duration.ofMillis(200)));
        server.trigger("long", "{}");
        server.trigger("long", "{}");
        server.await("/jobs/long/1", e -> e.get("status").asText().equals("start"));
        HttpClient client = HttpClient.newHttpClient();
        // Both requests are known to be inside the server before it closes: the follow has
        // its headers (the body streams until the end), and the repeat with ?wait has made
        // execution 3 and waits for its end.
        HttpResponse<java.io.InputStream> follow = client.sendAsync(
                        HttpRequest.newBuilder(server.uri("/jobs/long/2/output?follow=1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream())
                .get(20, TimeUnit.SECONDS);
        assertThat(follow.statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> wait = client.sendAsync(
                HttpRequest.newBuilder(server.uri("/jobs/long/2?wait=300"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        server.await("/jobs/long/3", e -> e.has("status"));
        CompletableFuture<Void> closed = CompletableFuture.runAsync(server::close);
        closed.get(20, TimeUnit.SECONDS);
        // Both requests came back (with what there was, or a closed connection), none hangs.
        CompletableFuture<byte[]> followBody = CompletableFuture.supplyAsync(() -> {
            try (java.io.InputStream in = follow.body()) {
                return in.readAllBytes();
            } catch (java.io.IOException closedConnection) {
                return new byte[0];
            }
        });
        followBody.get(5, TimeUnit.SECONDS);
        try {
            wait.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException closedConnection) {
            assertThat(closedConnection.getCause()).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void readyIsServiceUnavailableOnceShutdownBegins() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("long.yml", "command: sleep 600\n").commit("jobs");
        TestServer server = fixture.start(
                settings -> settings.shutdownGrace(Duration.ofSeconds(3)).killGrace(Duration.ofMillis(200)));
        HttpResponse<String> ready = server.get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(TestServer.parse(ready.body()).get("commit").asText()).hasSize(40);
        server.trigger("long", "{}");
        server.await("/jobs/long/1", e -> e.get("status").asText().equals("start"));
        CompletableFuture<Void> closed = CompletableFuture.runAsync(server::close);
        // During the grace the server still answers, and says it is going.
        HttpResponse<String> going;
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        do {
            going = server.get("/ready");
        } while (going.statusCode() == 200 && System.nanoTime() < deadline);
        assertThat(going.statusCode()).isEqualTo(503);
        assertThat(going.body()).contains("shutting down");
        assertThat(server.postJson("/jobs/long", "{}").statusCode()).isEqualTo(503);
        closed.get(20, TimeUnit.SECONDS);
    }
}
