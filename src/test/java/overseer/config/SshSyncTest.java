package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.job.JobParser;
import overseer.template.Renderer;
import overseer.testing.SshGitServer;
import overseer.testing.TestRepo;

class SshSyncTest {
    @TempDir
    Path tmp;

    private ConfigStatus sync(String url, Path key, Path knownHosts) throws Exception {
        var settings = new ConfigSync.Settings(
                Source.parse(url),
                Optional.of("main"),
                Optional.empty(),
                Optional.empty(),
                Optional.of(key),
                Optional.of(knownHosts));
        try (ConfigSync sync = new ConfigSync(
                settings,
                tmp.resolve("data-" + System.nanoTime()),
                new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper()))),
                java.time.Clock.systemUTC())) {
            return sync.syncNow();
        }
    }

    @Test
    void syncsOverSshWithAKnownHostKey() throws Exception {
        KeyPair client = SshGitServer.newKey();
        Path key = SshGitServer.writePrivateKey(client, tmp.resolve("id_ecdsa"));
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"));
                SshGitServer server = SshGitServer.start(repo.dir(), client)) {
            String commit = repo.with("backup.yml", "command: echo backup\n").commit("over ssh");
            Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), server.knownHostsLine() + "\n");

            ConfigStatus status = sync(server.url(), key, knownHosts);
            assertThat(status.error()).isEmpty();
            assertThat(status.outcome()).isEqualTo(ConfigStatus.Outcome.APPLIED);
            assertThat(status.active().orElseThrow().revision()).isEqualTo(commit);
        }
    }

    @Test
    void unknownHostKeyIsRefused() throws Exception {
        KeyPair client = SshGitServer.newKey();
        Path key = SshGitServer.writePrivateKey(client, tmp.resolve("id_ecdsa"));
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"));
                SshGitServer server = SshGitServer.start(repo.dir(), client)) {
            repo.with("backup.yml", "command: echo backup\n").commit("over ssh");
            Path empty = Files.writeString(tmp.resolve("known_hosts"), "");

            ConfigStatus status = sync(server.url(), key, empty);
            assertThat(status.outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
            assertThat(status.active()).isEmpty();

            // A host presenting another key than the one on record is refused too.
            String otherKey;
            try (SshGitServer impostor = SshGitServer.start(repo.dir(), client)) {
                otherKey = impostor.knownHostsLine()
                        .substring(impostor.knownHostsLine().indexOf(' '));
            }
            String port = server.url().replaceAll(".*:(\\d+)/.*", "$1");
            Path wrong = Files.writeString(tmp.resolve("known_hosts_wrong"), "[127.0.0.1]:" + port + otherKey + "\n");
            assertThat(sync(server.url(), key, wrong).outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
        }
    }

    @Test
    void wrongClientKeyIsRefused() throws Exception {
        KeyPair client = SshGitServer.newKey();
        Path otherKey = SshGitServer.writePrivateKey(SshGitServer.newKey(), tmp.resolve("id_other"));
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"));
                SshGitServer server = SshGitServer.start(repo.dir(), client)) {
            repo.with("backup.yml", "command: echo backup\n").commit("over ssh");
            Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), server.knownHostsLine() + "\n");

            ConfigStatus status = sync(server.url(), otherKey, knownHosts);
            assertThat(status.outcome()).isEqualTo(ConfigStatus.Outcome.FAILED);
            assertThat(status.error().orElseThrow()).doesNotContain("BEGIN");
        }
    }
}
