package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/** The quick start as a user runs it: the packaged jar serving the example repository. */
class ServeJarIT {
    @TempDir
    Path tmp;

    @Test
    void packagedJarServesTheExampleRepositoryAndStopsOnSigterm() throws Exception {
        try (JarServer server =
                JarServer.start("example-config-repo", tmp.resolve("data"), tmp.resolve("server.log"))) {
            assertThat(server.json("/jobs"))
                    .extracting(j -> j.get("name").asText())
                    .containsExactly("backup", "deploy", "heartbeat", "nightly");
            // The README's example: a form-encoded trigger that waits for the end.
            var response = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/deploy?wait=20"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("service=web&dry_run=true")));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
            assertThat(server.json("/jobs/deploy/1").get("status").asText()).isEqualTo("complete");
            assertThat(server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/deploy/1/output")))
                            .body())
                    .isEqualTo("deploying web to staging (dry run: yes)\n");
            assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
            assertThat(server.log()).contains("overseer: shutting down");
        }
    }

    @Test
    void withoutDataTheJarKeepsItsDataInTheWorkingDirectoryAndJobsFindTheirTools() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("elsewhere"));
        String example = Path.of("example-config-repo").toAbsolutePath().toString();
        try (JarServer server =
                JarServer.startIn(work, tmp.resolve("server.log"), Map.of(), List.of("--repo", example))) {
            var response = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/deploy?wait=20"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("service=web&dry_run=true")));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
            assertThat(server.json("/jobs/deploy/1").get("status").asText())
                    .as(server.log())
                    .isEqualTo("complete");
            assertThat(work.resolve("overseer-data/overseer.db")).exists();
            assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
        }
    }

    @Test
    void servingAPlainDirectoryFromInsideItLeavesItsOwnDataDirectoryOut() throws Exception {
        // `cd myconfig && overseer serve --repo .`: the default ./overseer-data is inside the source.
        Path config = Files.createDirectories(tmp.resolve("myconfig"));
        Files.writeString(config.resolve("hello.yml"), "command: echo hello\n");
        try (JarServer server =
                JarServer.startIn(config, tmp.resolve("server.log"), Map.of(), List.of("--repo", "."))) {
            assertThat(server.json("/jobs"))
                    .extracting(j -> j.get("name").asText())
                    .containsExactly("hello");
            assertThat(config.resolve("overseer-data/.overseer-data")).exists();
            var ready = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/ready")));
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            // A later sync (the data directory has changed by now) still leaves it out, logged once.
            Files.writeString(config.resolve("second.yml"), "command: echo second\n");
            assertThat(server.post("/config/sync").get("result").asText())
                    .as(server.log())
                    .isEqualTo("applied");
            assertThat(server.json("/jobs")).hasSize(2);
            assertThat(server.log().lines().filter(l -> l.contains("leaving out")))
                    .as(server.log())
                    .hasSize(1);
            assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
        }
    }

    @Test
    void syncingAGitRepositoryStartsNoGitProcess() throws Exception {
        // A git on the server's PATH that records each call: JGit must never call it.
        Path bin = Files.createDirectories(tmp.resolve("fake-bin"));
        Path calls = tmp.resolve("git-calls");
        Path git = bin.resolve("git");
        Files.writeString(git, "#!/bin/sh\necho \"$@\" >> " + calls + "\nexec /usr/bin/git \"$@\"\n");
        git.toFile().setExecutable(true);
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("hello.yml", "command: echo hello\n").commit("a job");
            Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"));
            try (JarServer server = JarServer.start(repo.url(), tmp.resolve("data"), tmp.resolve("server.log"), env)) {
                repo.with("second.yml", "command: echo second\n").commit("another job");
                server.send(java.net.http.HttpRequest.newBuilder(server.uri("/config/sync"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
                assertThat(server.json("/jobs")).hasSize(2);
                assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
            }
        }
        assertThat(calls).doesNotExist();
    }

    @Test
    void aHookDisabledForAMissingSecretIsLoggedAtStartAndAgainAfterARestart() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("overseer.yml", "hooks:\n  - url: http://127.0.0.1:9/h\n    secret: ${NOT_SET_ANYWHERE}\n")
                    .with("hello.yml", "command: echo hello\n")
                    .commit("a hook without its secret");
            String warning = "overseer.yml:3:13: hook http://127.0.0.1:9/h is disabled";
            try (JarServer server = JarServer.start(repo.url(), tmp.resolve("data"), tmp.resolve("first.log"))) {
                // Before any event looked for its hooks.
                assertThat(server.log()).contains(warning);
                assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
            }
            // Restored from the data directory, the same revision is not applied again.
            try (JarServer server = JarServer.start(repo.url(), tmp.resolve("data"), tmp.resolve("second.log"))) {
                assertThat(server.log()).contains(warning);
            }
        }
    }
}
