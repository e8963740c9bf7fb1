package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/**
 * A {@code serve} that cannot start (issues 20 and 25): one line on stderr naming the culprit,
 * exit code 2, and nothing touched, above all not the jobs of a server already running.
 */
class StartupFailureJarIT {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private List<String> serve(String repo, Path data, String listen, String... more) {
        List<String> args =
                new ArrayList<>(List.of("serve", "--repo", repo, "--data", data.toString(), "--listen", listen));
        args.addAll(List.of(more));
        return args;
    }

    private static void assertOneLine(JarServer.Exit exit, String... naming) {
        assertThat(exit.code()).as(exit.stderr()).isEqualTo(2);
        assertThat(exit.stderr().lines().toList()).as(exit.stderr()).hasSize(1);
        assertThat(exit.stderr()).contains(naming).doesNotContain("Exception", "\tat ");
        assertThat(exit.stdout()).isEmpty();
    }

    @Test
    void aSecondServerOnALiveDataDirectoryOrABusyAddressRefusesAndLeavesTheRunningJobRunning() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("sleeper.yml", "command: sleep 120\n").commit("a long job");
            Path data = tmp.resolve("data");
            try (JarServer first = JarServer.start(repo.url(), data, tmp.resolve("first.log"))) {
                first.post("/jobs/sleeper");
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!first.json("/jobs/sleeper/1").path("status").asText().equals("start")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(first.json("/jobs/sleeper/1").path("status").asText())
                        .isEqualTo("start");

                JarServer.Exit sameData = JarServer.run(tmp, LIMIT, serve(repo.url(), data, "127.0.0.1:0"));
                assertOneLine(sameData, data.toString());

                Path other = tmp.resolve("other-data");
                String busy = "127.0.0.1:" + first.port();
                JarServer.Exit sameAddress = JarServer.run(tmp, LIMIT, serve(repo.url(), other, busy));
                assertOneLine(sameAddress, busy);
                assertThat(other.resolve("overseer.db")).doesNotExist();

                // Both exited: whatever they did is done, and the first server's job still runs.
                var job = first.json("/jobs/sleeper/1");
                assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("start");
                assertThat(job.path("finished_at").isNull()).isTrue();
                assertThat(first.json("/ready").path("status").asText()).isEqualTo("ready");
                first.send(java.net.http.HttpRequest.newBuilder(first.uri("/jobs/sleeper/1"))
                        .header("Content-Type", "application/json")
                        .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"event\": \"kill\"}")));
                assertThat(first.stop(Duration.ofSeconds(20))).isTrue();
            }
        }
    }

    @Test
    void eachExpectedStartupFailureIsOneLineNamingTheCulpritAndExitCodeTwo() throws Exception {
        String repo = Path.of("example-config-repo").toAbsolutePath().toString();
        Path data = tmp.resolve("data");

        Path missing = tmp.resolve("no-such-tokens");
        assertOneLine(
                JarServer.run(tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--tokens", missing.toString())),
                missing.toString());

        Path malformed = Files.writeString(tmp.resolve("tokens"), "admin short\n");
        assertOneLine(
                JarServer.run(tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--tokens", malformed.toString())),
                malformed + ":1");

        Path cert = Files.writeString(tmp.resolve("cert.pem"), "not a certificate\n");
        Path key = Files.writeString(tmp.resolve("key.pem"), "not a key\n");
        assertOneLine(
                JarServer.run(
                        tmp,
                        LIMIT,
                        serve(repo, data, "127.0.0.1:0", "--tls-cert", cert.toString(), "--tls-key", key.toString())),
                "TLS");

        Path file = Files.writeString(tmp.resolve("a-file"), "");
        Path unwritable = file.resolve("data");
        assertOneLine(JarServer.run(tmp, LIMIT, serve(repo, unwritable, "127.0.0.1:0")), unwritable.toString());

        assertOneLine(
                JarServer.run(tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--store", "postgresql://")), "--store");
        assertOneLine(
                JarServer.run(tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--store", "mysql://db/x")), "--store");
        // A password in the URL is refused, and the refusal does not repeat it.
        JarServer.Exit withPassword = JarServer.run(
                tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--store", "postgresql://db/x?password=hunter2-secret"));
        assertOneLine(withPassword, "OVERSEER_STORE_PASSWORD");
        assertThat(withPassword.stderr()).doesNotContain("hunter2-secret");
        JarServer.Exit withUserInfo = JarServer.run(
                tmp, LIMIT, serve(repo, data, "127.0.0.1:0", "--store", "postgresql://me:hunter2-secret@db/x"));
        assertOneLine(withUserInfo, "--store");
        assertThat(withUserInfo.stderr()).doesNotContain("hunter2-secret");

        assertThat(data.resolve("overseer.db")).doesNotExist();
    }
}
