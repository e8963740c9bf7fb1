package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/** A job sees the server's environment without Overseer's own settings and secrets. */
class EnvironmentIT {
    @TempDir
    Path tmp;

    @Test
    void serverSecretsNeverReachAJob() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("overseer.yml", "hooks:\n  - {url: 'https://hooks.example.com/x', secret: '${HOOK_KEY}'}\n")
                    .with("env.yml", "command: env\n")
                    .commit("jobs");
            Map<String, String> env = Map.of(
                    "OVERSEER_GIT_TOKEN", "git-token-value-123",
                    "OVERSEER_GIT_WEBHOOK_SECRET", "push-secret-value-456",
                    "HOOK_KEY", "hook-secret-value-789",
                    "KEEP_ME", "kept-value");
            try (JarServer server = JarServer.start(repo.url(), tmp.resolve("data"), tmp.resolve("log"), env)) {
                server.send(HttpRequest.newBuilder(server.uri("/jobs/env?wait=20"))
                        .POST(HttpRequest.BodyPublishers.noBody()));
                String out = server.send(HttpRequest.newBuilder(server.uri("/jobs/env/1/stdout")))
                        .body();
                assertThat(out).contains("KEEP_ME=kept-value\n", "OVERSEER_JOB=env\n");
                assertThat(out)
                        .doesNotContain("git-token-value-123")
                        .doesNotContain("push-secret-value-456")
                        .doesNotContain("hook-secret-value-789");
                assertThat(server.log()).doesNotContain("git-token-value-123", "push-secret-value-456");
                assertThat(server.stop(Duration.ofSeconds(30))).isTrue();
            }
        }
    }
}
