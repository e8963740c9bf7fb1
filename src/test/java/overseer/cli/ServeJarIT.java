package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quick start as a user runs it: the packaged jar serving the example repository. */
class ServeJarIT {
    @TempDir
    Path tmp;

    @Test
    void packagedJarServesTheExampleRepositoryAndStopsOnSigterm() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = tmp.resolve("server.log");
        Process server = new ProcessBuilder(
                        java.toString(),
                        "-jar",
                        "target/overseer.jar",
                        "serve",
                        "--repo",
                        "example-config-repo",
                        "--data",
                        tmp.resolve("data").toString(),
                        "--listen",
                        "127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            URI jobs = URI.create("http://127.0.0.1:" + port + "/jobs");
            JsonNode list = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (list == null && System.nanoTime() < deadline) {
                try {
                    HttpResponse<String> response =
                            client.send(HttpRequest.newBuilder(jobs).build(), HttpResponse.BodyHandlers.ofString());
                    JsonNode body = new ObjectMapper().readTree(response.body());
                    if (body.size() > 0) {
                        list = body;
                    }
                } catch (IOException notListeningYet) {
                    Thread.sleep(100);
                }
            }
            assertThat(list).as("jobs served; log: %s", Files.readString(log)).isNotNull();
            assertThat(list)
                    .extracting(j -> j.get("name").asText())
                    .containsExactly("backup", "deploy", "heartbeat", "nightly");

            server.destroy();
            assertThat(server.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(log)).contains("overseer: shutting down");
        } finally {
            server.destroyForcibly();
        }
    }
}
