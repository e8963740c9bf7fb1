package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

class GitWebhookTest {
    private static final String SECRET = "webhook-secret-for-tests";
    private static final String PUSH =
            "{\"ref\":\"refs/heads/main\",\"after\":\"0000000000000000000000000000000000000000\"}";

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    private static String hmac(String secret, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    }

    private static HttpResponse<String> hook(TestServer server, String header, String value) throws Exception {
        return server.send(HttpRequest.newBuilder(server.uri("/hooks/git"))
                .header(header, value)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(PUSH)));
    }

    @Test
    void signedPushTriggersASyncFromEveryGitHost() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: a\n").commit("a");
        TestServer server = fixture.start(settings -> settings.webhookSecret(SECRET));
        String github = repo.with("b.yml", "command: b\n").commit("b");
        assertThat(hook(server, "X-Hub-Signature-256", "sha256=" + hmac(SECRET, PUSH))
                        .statusCode())
                .isEqualTo(202);
        server.await("/config", c -> c.get("commit").asText().equals(github));

        String gitlab = repo.with("c.yml", "command: c\n").commit("c");
        assertThat(hook(server, "X-Gitlab-Token", SECRET).statusCode()).isEqualTo(202);
        server.await("/config", c -> c.get("commit").asText().equals(gitlab));

        String gitea = repo.with("d.yml", "command: d\n").commit("d");
        assertThat(hook(server, "X-Gitea-Signature", hmac(SECRET, PUSH)).statusCode())
                .isEqualTo(202);
        server.await("/config", c -> c.get("commit").asText().equals(gitea));
        assertThat(server.json("/jobs")).hasSize(4);
    }

    @Test
    void badSignatureIsRefusedAndChangesNothing() throws Exception {
        TestRepo repo = fixture.repo();
        String first = repo.with("a.yml", "command: a\n").commit("a");
        TestServer server = fixture.start(settings -> settings.webhookSecret(SECRET));
        repo.with("b.yml", "command: b\n").commit("b");
        HttpResponse<String> wrong = hook(server, "X-Hub-Signature-256", "sha256=" + hmac("other-secret", PUSH));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(hook(server, "X-Gitlab-Token", "guess").statusCode()).isEqualTo(401);
        assertThat(server.post("/hooks/git", PUSH).statusCode()).isEqualTo(401);

        Thread.sleep(300);
        assertThat(server.json("/config").get("commit").asText()).isEqualTo(first);
        assertThat(server.json("/jobs")).hasSize(1);
    }

    @Test
    void oversizedWebhookBodyIsRefused() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: a\n").commit("a");
        TestServer server = fixture.start(settings -> settings.webhookSecret(SECRET));
        HttpResponse<String> response = server.send(HttpRequest.newBuilder(server.uri("/hooks/git"))
                .header("X-Gitlab-Token", SECRET)
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(6 * 1024 * 1024))));
        assertThat(response.statusCode()).isEqualTo(413);
    }

    @Test
    void withoutASecretWebhooksAreOff() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: a\n").commit("a");
        TestServer server = fixture.server();
        HttpResponse<String> response = hook(server, "X-Gitlab-Token", "");
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).contains("--git-webhook-secret");
    }
}
