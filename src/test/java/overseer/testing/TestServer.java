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
import overseer.api.HttpApi;
import overseer.config.ConfigSync;
import overseer.config.Source;
import overseer.event.RetrySchedule;
import overseer.service.Supervisor;
import overseer.store.Store;

/** A real Overseer server on a free loopback port, and a JDK HttpClient to talk to it. */
public final class TestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Overseer overseer;
    private final HttpClient client = HttpClient.newHttpClient();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

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
        private Optional<String> jobUser = Optional.empty();
        private Duration poll = Duration.ofHours(1);
        private int maxConcurrent = 8;
        private int maxQueued = 10_000;
        private Duration killGrace = Duration.ofSeconds(10);
        private Duration shutdownGrace = Duration.ofSeconds(30);
        private RetrySchedule webhookRetry = RetrySchedule.DEFAULT;
        private java.util.Map<String, String> environment = System.getenv();
        private java.time.Clock clock = java.time.Clock.systemUTC();
        private long maxOutput = 1L << 30;
        private long minFreeDisk = 0;
        private Duration maxSyncAge = Duration.ZERO;
        private Duration retain = Duration.ofDays(30);
        private int retainPerJob = 1000;
        private HttpApi.Exposure exposure = HttpApi.Exposure.defaults(java.util.List.of());
        private java.util.function.UnaryOperator<Store> storeDecorator = s -> s;
        private Supervisor.Settings services = Supervisor.Settings.DEFAULT;
        private int maxEvents = Overseer.Hooks.MAX_EVENTS;
        private Optional<overseer.store.StoreLocation> store = Optional.empty();

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

        /** {@code --job-user}: jobs run as this account (the server must run as root). */
        public Builder jobUser(String name) {
            jobUser = Optional.of(name);
            return this;
        }

        public Builder poll(Duration value) {
            poll = value;
            return this;
        }

        public Builder maxConcurrent(int value) {
            maxConcurrent = value;
            return this;
        }

        public Builder maxQueued(int value) {
            maxQueued = value;
            return this;
        }

        public Builder killGrace(Duration value) {
            killGrace = value;
            return this;
        }

        public Builder webhookRetry(String delays) {
            webhookRetry = RetrySchedule.parse(delays);
            return this;
        }

        /** The server's environment as hook secrets are read from it. */
        public Builder environment(java.util.Map<String, String> value) {
            environment = value;
            return this;
        }

        /** The clock of the server; a {@link MutableClock} lets a test move time. */
        public Builder clock(java.time.Clock value) {
            clock = value;
            return this;
        }

        /** /ready's thresholds: free disk below {@code bytes}, no good sync for longer than {@code age}. */
        public Builder readiness(long bytes, Duration age) {
            minFreeDisk = bytes;
            maxSyncAge = age;
            return this;
        }

        public Builder retention(Duration keep, int perJob) {
            retain = keep;
            retainPerJob = perJob;
            return this;
        }

        public Builder maxOutput(long bytes) {
            maxOutput = bytes;
            return this;
        }

        public Builder exposure(HttpApi.Exposure value) {
            exposure = value;
            return this;
        }

        /** Wraps the server's store, e.g. in a {@link FaultyStore}. */
        public Builder store(java.util.function.UnaryOperator<Store> decorator) {
            storeDecorator = decorator;
            return this;
        }

        /**
         * {@code --store}. Without it: SQLite, or with {@code OVERSEER_TEST_STORE=postgresql} a
         * database of the test PostgreSQL server made for this data directory (see {@link TestPostgres}).
         */
        public Builder storeAt(overseer.store.StoreLocation value) {
            store = Optional.of(value);
            return this;
        }

        /** The background services' error policy (a quick backoff for recovery tests). */
        public Builder services(Supervisor.Settings value) {
            services = value;
            return this;
        }

        /** How many events one execution may record (the server's is 10,000). */
        public Builder maxEvents(int value) {
            maxEvents = value;
            return this;
        }

        public Builder shutdownGrace(Duration value) {
            shutdownGrace = value;
            return this;
        }

        public TestServer start() throws Exception {
            var settings = new ConfigSync.Settings(
                    Source.parse(repo), Optional.empty(), subdir, Optional.empty(), Optional.empty(), Optional.empty());
            var options = new Overseer.Options(
                    settings,
                    data,
                    new InetSocketAddress("127.0.0.1", 0),
                    poll,
                    tokens,
                    webhookSecret,
                    maxConcurrent,
                    maxQueued,
                    killGrace,
                    shutdownGrace,
                    Optional.empty(),
                    webhookRetry,
                    environment,
                    clock,
                    exposure,
                    maxOutput,
                    jobUser,
                    minFreeDisk,
                    maxSyncAge,
                    retain,
                    retainPerJob,
                    store.orElseGet(() -> TestPostgres.storeFor(data)));
            return new TestServer(Overseer.start(options, new Overseer.Hooks(storeDecorator, services, maxEvents)));
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

    public HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> put(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    /** POSTs JSON params to a job, expecting 201; returns the execution. */
    public JsonNode trigger(String job, String params) throws IOException, InterruptedException {
        HttpResponse<String> response = postJson("/jobs/" + job, params);
        if (response.statusCode() != 201) {
            throw new AssertionError("POST /jobs/" + job + " gave " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** Waits until the execution has finished; returns it. */
    public JsonNode awaitFinished(String job, long number) throws Exception {
        return await("/jobs/" + job + "/" + number, e -> !e.get("finished_at").isNull());
    }

    /** A gauge's value from {@code /metrics}. */
    public double gauge(String name) throws IOException, InterruptedException {
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no gauge " + name);
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

    /**
     * Polls {@code /ready} until it is 200, for at most 20 s; returns the last status. A service
     * clears its problem when its round returns, just after the work the test saw.
     */
    public int awaitReady() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int status = get("/ready").statusCode();
        while (status != 200 && System.nanoTime() < deadline) {
            Thread.sleep(20);
            status = get("/ready").statusCode();
        }
        return status;
    }

    /** Polls {@code path} until it exists and its JSON satisfies {@code condition}, for at most 20 s. */
    public JsonNode await(String path, Predicate<JsonNode> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode last = null;
        do {
            HttpResponse<String> response = get(path);
            if (response.statusCode() == 200) {
                last = JSON.readTree(response.body());
                if (condition.test(last)) {
                    return last;
                }
            } else if (response.statusCode() != 404) {
                throw new AssertionError("GET " + path + " gave " + response.statusCode() + ": " + response.body());
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("GET " + path + " never satisfied the condition; last: " + last);
    }

    /** Stops the server; a second close (a test's own, then its fixture's) does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            overseer.close();
        }
    }
}
