package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;
import overseer.testing.Tmpfs;

/**
 * A data directory that fills up: the end of an execution is recorded once there is room again,
 * and meanwhile the server says it is not ready and refuses triggers with 503. Needs a small
 * tmpfs, so it runs where the tests may mount one (as root, as in CI).
 */
class FullDiskTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    private Tmpfs mounted;

    @AfterEach
    void unmount() {
        if (mounted != null) {
            mounted.close();
        }
    }

    /** A data directory on a 16 MiB tmpfs; skips the test where none can be mounted. */
    private Path smallDisk() throws IOException {
        Path data = Files.createDirectories(fixture.data());
        mounted = Tmpfs.mount(data, 16).orElse(null);
        assumeTrue(mounted != null, "cannot mount a tmpfs here");
        return data;
    }

    /** Writes zeros until the file system is full. */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("space")) {
                throw full;
            }
        }
    }

    @Test
    void anEndThatCannotBeRecordedIsRetriedWhileTheServerSaysItIsNotReady() throws Exception {
        Path data = smallDisk();
        TestRepo repo = fixture.repo();
        repo.with("step.yml", "command: sleep 1; echo done\n").commit("jobs");
        TestServer server = fixture.server();
        assertThat(server.get("/ready").statusCode()).isEqualTo(200);
        server.trigger("step", "{}");
        server.await("/jobs/step/1", e -> e.get("status").asText().equals("start"));
        Path filler = data.resolve("filler");
        fill(filler);
        // Writes fail now; the execution's end waits to be recorded.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        HttpResponse<String> ready;
        do {
            Thread.sleep(100);
            server.postJson("/jobs/step", "{}");
            ready = server.get("/ready");
        } while (ready.statusCode() == 200 && System.nanoTime() < deadline);
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("the store cannot record changes");
        // While the disk is full a trigger, which needs new pages, is refused. (Whether the
        // job's end already got in depends on the free pages SQLite still has: it is
        // either stored or retried, never lost, which is what the end of this test checks.)
        HttpResponse<String> refused = server.postJson("/jobs/step", "{}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(TestServer.parse(refused.body()).path("detail").asText())
                .isEqualTo("the store cannot write: the disk is full");

        Files.delete(filler);
        assertThat(server.awaitFinished("step", 1).get("status").asText()).isEqualTo("complete");
        server.await("/jobs/step/1", e -> true);
        assertThat(server.awaitReady()).isEqualTo(200);
    }

    @Test
    void outputThatCannotBeWrittenFailsTheExecutionSayingWhyAndWhatWasWrittenIsKept() throws Exception {
        Path data = smallDisk();
        Path go = fixture.tmp().resolve("go");
        Path written = fixture.tmp().resolve("written");
        TestRepo repo = fixture.repo();
        // More than the pipe holds (1 MiB) and two reads of the capture (256 KiB each): once
        // head is through, the capture has tried to write what it read first.
        repo.with("loud.yml", """
                            command: |
                              mkfifo %s
                              echo before
                              read _ < %s
                              head -c 4000000 /dev/zero
                              touch %s
                            """.formatted(go, go, written)).commit("jobs");
        TestServer server = fixture.server();
        server.trigger("loud", "{}");
        awaitTrue(() -> server.get("/jobs/loud/1/stdout").body().equals("before\n"));
        Path filler = data.resolve("filler");
        fill(filler);
        Files.writeString(go, "go\n");
        awaitTrue(() -> Files.exists(written));
        Files.delete(filler);
        var e = server.awaitFinished("loud", 1);
        assertThat(e.path("status").asText()).isEqualTo("fail");
        assertThat(server.json("/jobs/loud/1/fail").path("cause").asText())
                .isEqualTo("cannot write its output: No space left on device");
        assertThat(server.get("/jobs/loud/1/stdout").body()).startsWith("before\n");
        assertThat(server.get("/jobs/loud/1/output").body()).startsWith("before\n");
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls {@code condition} for at most 20 s. */
    private static void awaitTrue(Condition condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("condition never held").isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
