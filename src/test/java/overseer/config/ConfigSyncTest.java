package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

class ConfigSyncTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    private static List<String> names(JsonNode jobs) {
        List<String> names = new ArrayList<>();
        jobs.forEach(j -> names.add(j.get("name").asText()));
        return names;
    }

    @Test
    void pushedCommitAppearsAfterSync() throws Exception {
        TestRepo repo = fixture.repo();
        String first = repo.with("backup.yml", "command: echo backup\n").commit("first");
        TestServer server = fixture.server();
        assertThat(names(server.json("/jobs"))).containsExactly("backup");
        assertThat(server.json("/config").get("commit").asText()).isEqualTo(first);

        String second = repo.with("reports/nightly.json", "{\"command\": \"make report\"}")
                .commit("second");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("applied");
        assertThat(status.get("commit").asText()).isEqualTo(second);
        assertThat(names(server.json("/jobs"))).containsExactly("backup", "nightly");
        assertThat(server.json("/jobs/nightly").get("file").asText()).isEqualTo("reports/nightly.json");

        assertThat(TestServer.parse(server.post("/config/sync", "").body())
                        .get("result")
                        .asText())
                .isEqualTo("unchanged");
    }

    @Test
    void commitWithOneBrokenFileKeepsThePreviousJobs() throws Exception {
        TestRepo repo = fixture.repo();
        String good = repo.with("backup.yml", "command: echo backup\n").commit("good");
        TestServer server = fixture.server();
        String bad = repo.with("deploy.yml", "command: deploy\ntimout: 30\n")
                .with("backup.yml", "command: echo new backup\n")
                .commit("bad");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("invalid");
        assertThat(status.get("commit").asText()).isEqualTo(good);
        assertThat(status.get("rejected_commit").asText()).isEqualTo(bad);

        JsonNode config = server.json("/config");
        assertThat(config.get("problems")).singleElement().satisfies(p -> {
            assertThat(p.get("file").asText()).isEqualTo("deploy.yml");
            assertThat(p.get("line").asInt()).isEqualTo(2);
            assertThat(p.get("column").asInt()).isEqualTo(1);
            assertThat(p.get("message").asText()).isEqualTo("unknown job key 'timout'; did you mean 'timeout'?");
        });
        assertThat(names(server.json("/jobs"))).containsExactly("backup");
        assertThat(server.json("/jobs/backup").get("command").asText()).isEqualTo("echo backup");
        assertThat(server.get("/jobs/deploy").statusCode()).isEqualTo(404);

        String fixed = repo.with("deploy.yml", "command: deploy\ntimeout: 30\n").commit("fixed");
        JsonNode after = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(after.get("commit").asText()).isEqualTo(fixed);
        assertThat(after.get("problems")).isEmpty();
        assertThat(names(server.json("/jobs"))).containsExactly("backup", "deploy");
    }

    @Test
    void commitWithASymlinkOutOfTheRepositoryIsRejected() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: a\n").commit("a");
        TestServer server = fixture.server();
        repo.symlink("passwd.yml", "/etc/passwd")
                .symlink("bin/tool", "../../outside")
                .commit("links");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("invalid");
        assertThat(status.get("problems"))
                .extracting(p -> p.get("text").asText())
                .containsExactly(
                        "bin/tool:1:1: symbolic link points outside the repository (-> ../../outside)",
                        "passwd.yml:1:1: symbolic link points outside the repository (-> /etc/passwd)");
        assertThat(server.get("/jobs").body()).doesNotContain("root:");
    }

    @Test
    void subDirectoryHoldsTheJobs() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("README.md", "docs\n")
                .with("ops/jobs/backup.yml", "script: backup.sh\n")
                .executable("ops/jobs/scripts/backup.sh", "#!/bin/sh\necho\n")
                .with("ops/jobs/broken/x.yml", "nope: 1\n")
                .with("other/ignored.yml", "this is: [not even valid\n")
                .without("ops/jobs/broken/x.yml")
                .commit("sub");
        TestServer server = fixture.start(settings -> settings.subdir("ops/jobs"));
        assertThat(names(server.json("/jobs"))).containsExactly("backup");
        assertThat(server.json("/jobs/backup").get("file").asText()).isEqualTo("ops/jobs/backup.yml");

        repo.with("ops/jobs/bad.yml", "command: [1]\n").commit("bad");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("problems").get(0).get("text").asText())
                .isEqualTo("ops/jobs/bad.yml:1:10: 'command' must be a string, not a list");
    }

    @Test
    void checkoutsAreImmutableAndOldOnesAreRemoved() throws Exception {
        TestRepo repo = fixture.repo();
        String first = repo.with("a.yml", "command: one\n")
                .executable("bin/tool", "#!/bin/sh\n")
                .commit("one");
        TestServer server = fixture.server();
        Path checkouts = fixture.tmp().resolve("data/checkouts");
        assertThat(server.activeCheckout()).isEqualTo(checkouts.resolve(first));
        assertThat(checkouts.resolve(first + "/a.yml")).hasContent("command: one");
        assertThat(Files.isExecutable(checkouts.resolve(first + "/bin/tool"))).isTrue();
        // The mode bits, not isWritable: root may write anything, tests run as root in CI.
        assertThat(Files.getPosixFilePermissions(checkouts.resolve(first + "/a.yml")))
                .doesNotContain(
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                        java.nio.file.attribute.PosixFilePermission.GROUP_WRITE,
                        java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE);

        String second = repo.with("a.yml", "command: two\n").commit("two");
        server.post("/config/sync", "");
        assertThat(server.activeCheckout()).isEqualTo(checkouts.resolve(second));
        assertThat(checkouts.resolve(second + "/a.yml")).hasContent("command: two");
        server.await("/config", c -> !Files.exists(checkouts.resolve(first)));

        // A rejected commit is validated from Git objects and never written out.
        String bad = repo.with("b.yml", "nonsense: true\n").commit("bad");
        server.post("/config/sync", "");
        assertThat(checkouts.resolve(bad)).doesNotExist();
        assertThat(checkouts.resolve(second)).isDirectory();
    }

    @Test
    void unreachableRemoteKeepsServingAndRecovers() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("backup.yml", "command: echo backup\n").commit("first");
        Path moved = fixture.tmp().resolve("moved");
        TestServer server = fixture.server();
        Files.move(repo.dir(), moved);
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("failed");
        assertThat(status.get("error").asText()).contains("fetch of").contains("failed");
        assertThat(names(server.json("/jobs"))).containsExactly("backup");
        assertThat(server.json("/health").get("status").asText()).isEqualTo("ok");

        Files.move(moved, repo.dir());
        assertThat(TestServer.parse(server.post("/config/sync", "").body())
                        .get("result")
                        .asText())
                .isEqualTo("unchanged");
        fixture.stop();

        // A restart while the remote is gone still serves the last good revision…
        String url = repo.url();
        Files.move(repo.dir(), moved);
        try (TestServer restarted = TestServer.on(url, fixture.data()).start()) {
            assertThat(names(restarted.json("/jobs"))).containsExactly("backup");
            assertThat(restarted.json("/config").get("result").asText()).isEqualTo("failed");
        }
        // …but not when it is pointed at another repository with the same data directory.
        try (TestServer other = TestServer.on(url + "-other", fixture.data()).start()) {
            assertThat(other.json("/jobs")).isEmpty();
        }
    }

    @Test
    void unreachableNetworkRemoteFailsCleanly() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (TestServer server = TestServer.on("http://127.0.0.1:" + closedPort + "/repo.git", fixture.data())
                .start()) {
            JsonNode config = server.json("/config");
            assertThat(config.get("result").asText()).isEqualTo("failed");
            assertThat(config.get("jobs").asInt()).isZero();
            assertThat(server.json("/jobs")).isEmpty();
        }
    }

    @Test
    void plainDirectoryIsASnapshotByContentHash() throws Exception {
        Path dir = Files.createDirectories(fixture.tmp().resolve("plain"));
        Files.writeString(dir.resolve("hello.yml"), "command: echo hello\n");
        try (TestServer server = TestServer.on(dir.toString(), fixture.data()).start()) {
            String first = server.json("/config").get("commit").asText();
            assertThat(first).hasSize(40);
            assertThat(TestServer.parse(server.post("/config/sync", "").body())
                            .get("result")
                            .asText())
                    .isEqualTo("unchanged");

            Files.writeString(dir.resolve("bye.yml"), "command: echo bye\n");
            JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
            assertThat(status.get("result").asText()).isEqualTo("applied");
            assertThat(status.get("commit").asText()).isNotEqualTo(first);
            assertThat(names(server.json("/jobs"))).containsExactly("bye", "hello");
        }
    }

    @Test
    void aNamedPipeAmongThePlainDirectorysJobFilesIsAProblemNotSilentlyMissing() throws Exception {
        Path dir = Files.createDirectories(fixture.tmp().resolve("plain"));
        Files.writeString(dir.resolve("hello.yml"), "command: echo hello\n");
        try (TestServer server = TestServer.on(dir.toString(), fixture.data()).start()) {
            overseer.process.Fifos.create(dir.resolve("pipe.yml"));
            JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
            assertThat(status.get("result").asText()).isEqualTo("invalid");
            assertThat(status.get("problems").get(0).get("text").asText())
                    .isEqualTo("pipe.yml:1:1: cannot read: not a regular file");
        }
    }

    @Test
    void localRepositoryServesCommitsNotTheWorkingTree() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: a\n").commit("a");
        repo.with("uncommitted.yml", "command: b\n");
        try (TestServer server =
                TestServer.on(repo.dir().toString(), fixture.data()).start()) {
            assertThat(names(server.json("/jobs"))).containsExactly("a");
        }
    }

    @Test
    void aCraftedTreeWithDotDotOrDotGitIsRejectedAndTheGoodRevisionKeepsRunningJobs() throws Exception {
        TestRepo repo = fixture.repo();
        String good = repo.with("hello.yml", "command: echo hello\n").commit("good");
        String active = good;
        TestServer server = fixture.server();
        for (String name : List.of("..", ".git", ".GIT", ".")) {
            String crafted = repo.commitCraftedEntry(name, "evil.yml", "command: echo pwned\n");
            JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
            assertThat(status.get("result").asText()).as(name).isEqualTo("invalid");
            assertThat(status.get("rejected_commit").asText()).isEqualTo(crafted);
            assertThat(status.get("commit").asText()).isEqualTo(active);
            assertThat(status.get("problems").get(0).get("message").asText()).contains("which no checkout may have");
            // Back to a good tip for the next attempt.
            active = repo.with("n.txt", name).commit("good again");
            server.post("/config/sync", "");
        }
        server.trigger("hello", "{}");
        assertThat(server.awaitFinished("hello", 1).get("status").asText()).isEqualTo("complete");
        assertThat(server.get("/jobs/hello/1/stdout").body()).isEqualTo("hello\n");
    }

    @Test
    void jobFilesThatDifferOnlyInCaseAreRejected() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: x\n").commit("one");
        TestServer server = fixture.server();
        repo.with("bin/tool", "#!/bin/sh\n").with("bin/Tool", "#!/bin/sh\n").commit("two");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("invalid");
        assertThat(status.get("problems").get(0).get("text").asText())
                .isEqualTo("bin/tool:1:1: differs from bin/Tool only in case; rename one of them");
    }

    @Test
    void aTreeThatCannotBeCheckedOutIsRejectedWithItsPathAndTheGoodRevisionKeepsRunningJobs() throws Exception {
        String longName = "n".repeat(256) + ".txt";
        String longTarget = "a/".repeat(2100) + "b";
        String hello = "command: echo hello\n";
        record Case(String what, TestRepo.Crafted[] tree, String file, String message) {}
        List<Case> cases = List.of(
                new Case(
                        "a name over 255 bytes",
                        new TestRepo.Crafted[] {
                            TestRepo.Crafted.file("hello.yml", hello),
                            TestRepo.Crafted.dir("notes", TestRepo.Crafted.file(longName, "x"))
                        },
                        "notes/" + longName,
                        "name is 260 bytes"),
                new Case(
                        "a symbolic link whose target is over 4 KiB",
                        new TestRepo.Crafted[] {
                            TestRepo.Crafted.file("hello.yml", hello), TestRepo.Crafted.link("link", longTarget)
                        },
                        "link",
                        "symbolic link's target is 4201 bytes"),
                new Case(
                        "two entries of one name",
                        new TestRepo.Crafted[] {
                            TestRepo.Crafted.file("hello.yml", hello),
                            TestRepo.Crafted.file("hello.yml", "command: x\n")
                        },
                        "hello.yml",
                        "the tree holds two entries named 'hello.yml'"),
                new Case(
                        "a file and a directory of one name",
                        new TestRepo.Crafted[] {
                            TestRepo.Crafted.file("hello.yml", hello),
                            TestRepo.Crafted.file("tools", "a file"),
                            TestRepo.Crafted.dir("tools", TestRepo.Crafted.file("x.txt", "x"))
                        },
                        "tools",
                        "the tree holds two entries named 'tools'"));
        TestRepo repo = fixture.repo();
        String active = repo.with("hello.yml", hello).commit("good");
        TestServer server = fixture.server();
        for (Case c : cases) {
            String crafted = repo.commitCrafted(c.tree());
            JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
            assertThat(status.get("result").asText()).as(c.what()).isEqualTo("invalid");
            assertThat(status.get("rejected_commit").asText()).isEqualTo(crafted);
            assertThat(status.get("commit").asText()).isEqualTo(active);
            assertThat(status.get("problems").get(0).get("file").asText())
                    .as(c.what())
                    .isEqualTo(c.file());
            assertThat(status.get("problems").get(0).get("message").asText())
                    .as(c.what())
                    .contains(c.message());
            active = repo.with("n.txt", c.what()).commit("good again");
            assertThat(TestServer.parse(server.post("/config/sync", "").body())
                            .get("result")
                            .asText())
                    .isEqualTo("applied");
        }
        server.trigger("hello", "{}");
        assertThat(server.awaitFinished("hello", 1).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void aCheckoutThatCannotBeWrittenKeepsThePreviousRevisionAndItsCheckout() throws Exception {
        TestRepo repo = fixture.repo();
        String good = repo.with("hello.yml", "command: echo hello\n").commit("good");
        TestServer server = fixture.server();
        String next = repo.with("hello.yml", "command: echo next\n").commit("next");
        // A regular file where the new checkout must go: the disk refuses it, as a full one would.
        Files.writeString(fixture.tmp().resolve("data/checkouts").resolve(next), "in the way");
        JsonNode status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("failed");
        assertThat(status.get("commit").asText()).isEqualTo(good);
        assertThat(status.get("error").asText()).contains("cannot write checkout");
        server.trigger("hello", "{}");
        assertThat(server.awaitFinished("hello", 1).get("status").asText()).isEqualTo("complete");
        assertThat(server.get("/jobs/hello/1/stdout").body()).isEqualTo("hello\n");

        Files.delete(fixture.tmp().resolve("data/checkouts").resolve(next));
        status = TestServer.parse(server.post("/config/sync", "").body());
        assertThat(status.get("result").asText()).isEqualTo("applied");
        assertThat(status.get("commit").asText()).isEqualTo(next);
    }
}
