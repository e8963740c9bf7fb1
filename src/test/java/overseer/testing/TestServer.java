package overseer.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import overseer.Overseer;
import overseer.config.ConfigSync;
import overseer.config.Source;

/** A real Overseer server on a free loopback port, and a JDK HttpClient to talk to it. */
public final class TestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Overseer overseer;
    private final HttpClient client = HttpClient.newHttpClient();

    private TestServer(Overseer overseer) {
        this.overseer = overseer;
    }

    public static Builder on(String repo, Path data) {
        return new Builder(repo, data);
    }

    public static final class Builder {
        private final String repo;
        private final Path data;
        private Optional<String> subdir = Optional.empty();
        private Optional<String> webhookSecret = Optional.empty();
        private Optional<Path> tokens = Optional.empty();
        private Duration poll = Duration.ofHours(1);

        Builder(String repo, Path data) {
            this.repo = repo;
            this.data = data;
        }

        public Builder subdir(String value) {
            subdir = Optional.of(value);
            return this;
        }

        public Builder webhookSecret(String value) {
            webhookSecret = Optional.of(value);
            return this;
        }

        public Builder tokens(Path file) {
            tokens = Optional.of(file);
            return this;
        }

        public Builder poll(Duration value) {
            poll = value;
            return this;
        }

        public TestServer start() throws Exception {
            var settings = new ConfigSync.Settings(
                    Source.parse(repo), Optional.empty(), subdir, Optional.empty(), Optional.empty(), Optional.empty());
            var options = new Overseer.Options(
                    settings, data, new InetSocketAddress("127.0.0.1", 0), poll, tokens, webhookSecret);
            return new TestServer(Overseer.start(options));
        }
    }

    public Overseer overseer() {
        return overseer;
    }

    /** The checkout directory of the active revision, once it is completely written. */
    public Path activeCheckout() throws Exception {
        return overseer.config().active().orElseThrow().checkout().await();
    }

    public URI uri(String path) {
        InetSocketAddress address = overseer.address();
        return URI.create("http://127.0.0.1:" + address.getPort() + path);
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)));
    }

    public HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public JsonNode json(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = get(path);
        if (response.statusCode() != 200) {
            throw new AssertionError("GET " + path + " gave " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    public static JsonNode parse(String body) throws IOException {
        return JSON.readTree(body);
    }

    /** Polls {@code path} until its JSON satisfies {@code condition}, for at most 20 s. */
    public JsonNode await(String path, Predicate<JsonNode> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode last;
        do {
            last = json(path);
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("GET " + path + " never satisfied the condition; last: " + last);
    }

    @Override
    public void close() {
        overseer.close();
    }
}
