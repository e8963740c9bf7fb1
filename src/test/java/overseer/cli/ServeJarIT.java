package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;

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
            assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
            assertThat(server.log()).contains("overseer: shutting down");
        }
    }
}
