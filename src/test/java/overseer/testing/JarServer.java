package overseer.testing;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The packaged jar running {@code overseer serve} as its own process, as users run it. */
public final class JarServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient client = HttpClient.newHttpClient();

    private JarServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts the jar with {@code serve --repo repo --data data} and more arguments; waits until it serves jobs. */
    public static JarServer start(String repo, Path data, Path log, String... more) throws Exception {
        return start(repo, data, log, java.util.Map.of(), more);
    }

    /** The same, with variables added to the server's environment. */
    public static JarServer start(String repo, Path data, Path log, java.util.Map<String, String> env, String... more)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--repo", repo, "--data", data.toString()));
        args.addAll(List.of(more));
        java.util.Map<String, String> all = new java.util.HashMap<>(env);
        // A PostgreSQL run of the suite: the jar on a database of its own, unless the test chose one.
        if (!all.containsKey("OVERSEER_STORE")) {
            TestPostgres.jarStoreFor(data).ifPresent(url -> all.put("OVERSEER_STORE", url));
        }
        return startIn(Path.of("").toAbsolutePath(), log, all, args);
    }

    /**
     * Starts {@code serve} as {@link #start(String, Path, Path, java.util.Map, String...)} does
     * but returns at once, before it listens: for a test of what a starting server answers.
     */
    public static JarServer launch(String repo, Path data, Path log, java.util.Map<String, String> env)
            throws Exception {
        return launchIn(Path.of("").toAbsolutePath(), log, env, List.of("--repo", repo, "--data", data.toString()));
    }

    /** Starts {@code serve} with exactly {@code args} (and a free port) in the working directory {@code dir}. */
    public static JarServer startIn(Path dir, Path log, java.util.Map<String, String> env, List<String> args)
            throws Exception {
        JarServer server = launchIn(dir, log, env, args);
        server.awaitJobs();
        return server;
    }

    private static JarServer launchIn(Path dir, Path log, java.util.Map<String, String> env, List<String> args)
            throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                Path.of("target/overseer.jar").toAbsolutePath().toString(),
                "serve",
                "--listen",
                "127.0.0.1:" + port));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().putAll(env);
        Process process = builder.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new JarServer(process, port, log);
    }

    /** Waits (at most 30 s) until the server serves its jobs; kills it otherwise. */
    public void awaitJobs() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                // Jobs; or, when a token is needed (401), the first configuration applied, so
                // that a test's next commit is not what the first sync fetches.
                JsonNode jobs = json("/jobs");
                if (jobs.isArray() && jobs.size() > 0) {
                    return;
                }
                int status = jobs.path("status").asInt();
                if (status == 401 && Files.readString(log).contains("config: applied ")) {
                    return;
                }
                if (!jobs.isArray() && status != 401 && status != 503) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // Still starting.
            }
            Thread.sleep(100);
        }
        process.destroyForcibly();
        throw new AssertionError("the jar did not serve jobs; log: " + Files.readString(log));
    }

    /** What a run of the jar that ends by itself did. */
    public record Exit(int code, String stdout, String stderr) {}

    /**
     * Runs {@code java -jar overseer.jar} with exactly {@code args} and waits (at most {@code
     * limit}) for it to exit: for commands, and for a {@code serve} that must refuse to start.
     */
    public static Exit run(Path dir, Duration limit, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                Path.of("target/overseer.jar").toAbsolutePath().toString()));
        command.addAll(args);
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the jar did not exit within " + limit + "; stderr: " + Files.readString(err));
        }
        return new Exit(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    public int port() {
        return port;
    }

    public Process process() {
        return process;
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public JsonNode json(String path) throws IOException, InterruptedException {
        return JSON.readTree(send(HttpRequest.newBuilder(uri(path))).body());
    }

    public JsonNode post(String path) throws IOException, InterruptedException {
        return JSON.readTree(send(HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{}")))
                .body());
    }

    /** Stops the server as an operator does (SIGTERM); true when it exited in time. */
    public boolean stop(Duration limit) throws InterruptedException {
        process.destroy();
        return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
