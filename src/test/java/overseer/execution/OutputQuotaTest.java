package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.Processes;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * {@code --max-output}: a job that writes past it is terminated (killed after the kill grace if
 * it ignores that), and no more than it is kept.
 */
class OutputQuotaTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void aJobWritingPastTheQuotaIsTerminatedSayingWhy() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("flood.yml", "command: head -c 5000000 /dev/zero; head -c 5000000 /dev/zero >&2; sleep 30\n")
                .with("small.yml", "command: echo fine\n")
                .commit("jobs");
        TestServer server = fixture.start(settings -> settings.maxOutput(1_000_000));
        server.trigger("flood", "{}");
        JsonNode e = server.awaitFinished("flood", 1);
        assertThat(e.path("status").asText()).isEqualTo("fail");
        JsonNode terminate = e.path("events").get(2);
        assertThat(terminate.path("name").asText()).isEqualTo("terminate");
        assertThat(terminate.path("cause").asText())
                .isEqualTo("its output passed --max-output (1000000 bytes); the rest is dropped");
        Path dir = fixture.tmp().resolve("data/executions/flood/1");
        // A stream that wrote nothing has no file.
        long written = 0;
        for (String name : java.util.List.of("stdout", "stderr")) {
            written += Files.exists(dir.resolve(name)) ? Files.size(dir.resolve(name)) : 0;
        }
        assertThat(written).isEqualTo(1_000_000);
        server.trigger("small", "{}");
        assertThat(server.awaitFinished("small", 1).path("status").asText()).isEqualTo("complete");
    }

    @Test
    void aJobIgnoringTermPastTheQuotaIsKilledAfterTheGraceWithNothingLeft() throws Exception {
        TestRepo repo = fixture.repo();
        // TERM stays ignored across fork and exec: neither the background sleep nor yes ends on it.
        repo.with("stubborn.yml", "command: trap '' TERM; sleep 600 & echo $!; echo $$; exec yes\n")
                .commit("jobs");
        TestServer server =
                fixture.start(settings -> settings.maxOutput(100_000).killGrace(java.time.Duration.ofMillis(500)));
        server.trigger("stubborn", "{}");
        JsonNode e = server.awaitFinished("stubborn", 1);
        assertThat(e.path("events"))
                .extracting(ev -> ev.path("name").asText())
                .containsExactly("queued", "start", "terminate", "kill", "fail");
        assertThat(e.path("events").get(3).path("cause").asText())
                .isEqualTo("its output passed --max-output (100000 bytes) and it did not end within"
                        + " 0.5 s of SIGTERM");
        assertThat(e.path("status").asText()).isEqualTo("fail");
        java.time.Instant terminated =
                java.time.Instant.parse(e.path("events").get(2).path("at").asText());
        java.time.Instant ended =
                java.time.Instant.parse(e.path("events").get(4).path("at").asText());
        assertThat(java.time.Duration.between(terminated, ended))
                .isBetween(java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(5));
        String[] lines = server.get("/jobs/stubborn/1/stdout").body().split("\n", 3);
        java.util.List<Long> pids = java.util.List.of(Long.parseLong(lines[0]), Long.parseLong(lines[1]));
        assertThat(Processes.awaitGone(pids)).as("pids " + pids + " gone").isTrue();
    }
}
