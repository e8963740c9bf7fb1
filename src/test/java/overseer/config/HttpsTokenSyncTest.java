package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.job.JobParser;
import overseer.template.Renderer;
import overseer.testing.HttpGitServer;
import overseer.testing.TestRepo;

class HttpsTokenSyncTest {
    private static final String TOKEN = "glpat-test-token-0123456789";

    @TempDir
    Path tmp;

    private ConfigStatus sync(String url, Optional<String> token) throws Exception {
        var settings = new ConfigSync.Settings(
                Source.parse(url), Optional.empty(), Optional.empty(), token, Optional.empty(), Optional.empty());
        try (ConfigSync sync = new ConfigSync(
                settings,
                tmp.resolve("data-" + System.nanoTime()),
                new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper()))),
                Clock.systemUTC())) {
            return sync.syncNow();
        }
    }

    @Test
    void tokenAuthenticatesTheFetch() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"));
                HttpGitServer server = new HttpGitServer(repo.dir(), TOKEN)) {
            String commit = repo.with("backup.yml", "command: echo backup\n").commit("over http");
            ConfigStatus status = sync(server.url(), Optional.of(TOKEN));
            assertThat(status.error()).isEmpty();
            assertThat(status.active().orElseThrow().revision()).isEqualTo(commit);
        }
    }

    @Test
    void missingOrWrongTokenFails() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"));
                HttpGitServer server = new HttpGitServer(repo.dir(), TOKEN)) {
            repo.with("backup.yml", "command: echo backup\n").commit("over http");
            ConfigStatus none = sync(server.url(), Optional.empty());
            assertThat(none.outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
            ConfigStatus wrong = sync(server.url(), Optional.of("wrong-token-value"));
            assertThat(wrong.outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
            assertThat(server.refused()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void credentialsInTheUrlAreMaskedInErrors() throws Exception {
        ConfigStatus status = sync("http://user:s3cret-in-url@127.0.0.1:1/repo.git", Optional.empty());
        assertThat(status.outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
        assertThat(status.error().orElseThrow()).doesNotContain("s3cret-in-url").contains("***@");
        assertThat(status.source()).doesNotContain("s3cret-in-url");
    }
}
