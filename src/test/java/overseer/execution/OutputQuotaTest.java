package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code --max-output}: a job that writes past it is terminated, and no more than it is kept. */
class OutputQuotaTest {
    @TempDir
    Path tmp;

    @Test
    void aJobWritingPastTheQuotaIsTerminatedSayingWhy() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("flood.yml", "command: head -c 5000000 /dev/zero; head -c 5000000 /dev/zero >&2; sleep 30\n")
                    .with("small.yml", "command: echo fine\n")
                    .commit("jobs");
            try (TestServer server = TestServer.on(repo.url(), tmp.resolve("data"))
                    .maxOutput(1_000_000)
                    .start()) {
                server.trigger("flood", "{}");
                JsonNode e = server.awaitFinished("flood", 1);
                assertThat(e.path("status").asText()).isEqualTo("fail");
                JsonNode terminate = e.path("events").get(2);
                assertThat(terminate.path("name").asText()).isEqualTo("terminate");
                assertThat(terminate.path("cause").asText())
                        .isEqualTo("its output passed --max-output (1000000 bytes); the rest is dropped");
                Path dir = tmp.resolve("data/executions/flood/1");
                // A stream that wrote nothing has no file.
                long written = 0;
                for (String name : java.util.List.of("stdout", "stderr")) {
                    written += Files.exists(dir.resolve(name)) ? Files.size(dir.resolve(name)) : 0;
                }
                assertThat(written).isEqualTo(1_000_000);
                server.trigger("small", "{}");
                assertThat(server.awaitFinished("small", 1).path("status").asText())
                        .isEqualTo("complete");
            }
        }
    }
}
