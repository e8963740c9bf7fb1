package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestRepo;

/**
 * The packaged server on a throwaway PostgreSQL cluster (src/test/scripts/pg-throwaway, never the
 * machine's server) that goes away: the server says so on /ready, answers 503 rather than 500,
 * and every trigger it acknowledged, before, during or after, is there and runs once.
 */
class PostgresOutageJarIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = Path.of("src/test/scripts/pg-throwaway").toAbsolutePath();

    @TempDir
    Path tmp;

    /** Outside the test's own directory, which only its owner may enter: the cluster is the postgres user's. */
    private final Path cluster = Path.of("/tmp", "overseer-pg-" + UUID.randomUUID());

    private int port;

    @BeforeEach
    void freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
    }

    @AfterEach
    void removeCluster() throws Exception {
        script("remove");
    }

    private void script(String command) throws Exception {
        script(command, "");
    }

    /** Runs the helper; {@code password}: the cluster (made by this start) needs it. */
    private void script(String command, String password) throws Exception {
        List<String> args = new ArrayList<>(List.of(SCRIPT.toString(), command, cluster.toString()));
        if (command.equals("start")) {
            args.add(Integer.toString(port));
            if (!password.isEmpty()) {
                args.add(password);
            }
        }
        Path out = tmp.resolve("script.log");
        Process p = new ProcessBuilder(args)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS))
                .as("pg-throwaway " + command)
                .isTrue();
        if (p.exitValue() != 0) {
            String log = Files.readString(out);
            if (command.equals("start")
                    && log.contains("no PostgreSQL binaries")
                    && !"true".equals(System.getenv("CI"))) {
                org.junit.jupiter.api.Assumptions.abort("PostgreSQL outage tests need the PostgreSQL binaries: " + log);
            }
            throw new AssertionError("pg-throwaway " + command + " failed: " + log);
        }
    }

    private String store() {
        return "postgresql://127.0.0.1:" + port + "/overseer?user=postgres";
    }

    @Test
    void theDatabaseAwayForTenSecondsLosesNoAcknowledgedTriggerAndRunsEachOnce() throws Exception {
        script("start");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("once.yml", "command: echo ran\n").commit("a job");
            Path log = tmp.resolve("server.log");
            try (JarServer server =
                    JarServer.start(repo.url(), tmp.resolve("data"), log, Map.of("OVERSEER_STORE", store()))) {
                List<Long> acknowledged = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    acknowledged.add(trigger(server).orElseThrow());
                }

                script("stop");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                boolean unready = false;
                int refused = 0;
                while (System.nanoTime() < deadline) {
                    trigger(server).ifPresent(acknowledged::add);
                    HttpResponse<String> list =
                            server.send(HttpRequest.newBuilder(server.uri("/jobs/once/executions")));
                    assertThat(list.statusCode()).as(list.body()).isIn(200, 503);
                    HttpResponse<String> ready = server.send(HttpRequest.newBuilder(server.uri("/ready")));
                    if (ready.statusCode() == 503) {
                        unready = true;
                        assertThat(ready.body()).contains("127.0.0.1:" + port + "/overseer");
                    }
                    refused += list.statusCode() == 503 ? 1 : 0;
                    Thread.sleep(200);
                }
                assertThat(unready)
                        .as("/ready said 503 while the database was away")
                        .isTrue();
                assertThat(refused)
                        .as("reads answered 503 while the database was away")
                        .isPositive();

                script("start");
                int after = 0;
                long back = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (after < 5 && System.nanoTime() < back) {
                    var made = trigger(server);
                    if (made.isPresent()) {
                        acknowledged.add(made.get());
                        after++;
                    } else {
                        Thread.sleep(200);
                    }
                }
                assertThat(after).as("triggers taken once the database is back").isEqualTo(5);

                for (long n : acknowledged) {
                    JsonNode e = awaitFinished(server, n);
                    assertThat(e.get("status").asText()).as("execution %d", n).isEqualTo("complete");
                    String out = server.send(HttpRequest.newBuilder(server.uri("/jobs/once/" + n + "/stdout")))
                            .body();
                    assertThat(out).as("execution %d ran once", n).isEqualTo("ran\n");
                }
                JsonNode all = server.json("/jobs/once/executions?limit=500");
                // Every execution there is one a trigger was answered with (none made twice), each run once.
                List<Long> numbers = new ArrayList<>();
                all.forEach(e -> numbers.add(e.get("execution").asLong()));
                assertThat(numbers).containsExactlyInAnyOrderElementsOf(acknowledged);
                HttpResponse<String> ready = awaitReady(server);
                assertThat(ready.statusCode()).isEqualTo(200);
            }
            assertThat(Files.readString(log)).doesNotContain("\tat ").doesNotContain("Exception in");
        }
    }

    @Test
    void aServerStartedWhileTheDatabaseIsAwayWaitsForItWithOneLineAndNoPassword() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("once.yml", "command: echo ran\n").commit("a job");
            Path log = tmp.resolve("server.log");
            try (JarServer server = JarServer.launch(
                    repo.url(),
                    tmp.resolve("data"),
                    log,
                    Map.of("OVERSEER_STORE", store(), "OVERSEER_STORE_PASSWORD", "s3cret-pass"))) {
                // While it waits, it is alive (/health), not ready (/ready names the problem),
                // and every other route answers 503 at once.
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!(Files.exists(log) && Files.readString(log).contains("trying again in"))) {
                    assertThat(System.nanoTime()).as("the server says it waits").isLessThan(deadline);
                    Thread.sleep(100);
                }
                assertThat(server.send(HttpRequest.newBuilder(server.uri("/health")))
                                .statusCode())
                        .isEqualTo(200);
                HttpResponse<String> ready = server.send(HttpRequest.newBuilder(server.uri("/ready")));
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("cannot open postgresql://127.0.0.1:" + port + "/overseer");
                assertThat(server.send(HttpRequest.newBuilder(server.uri("/jobs")))
                                .statusCode())
                        .isEqualTo(503);
                script("start");
                server.awaitJobs();
                assertThat(trigger(server)).isPresent();
                String text = Files.readString(log);
                assertThat(text)
                        .contains("store: cannot open postgresql://127.0.0.1:" + port + "/overseer")
                        .contains("trying again in")
                        .doesNotContain("s3cret-pass")
                        .doesNotContain("\tat ");
                assertThat(server.send(HttpRequest.newBuilder(server.uri("/config")))
                                .body())
                        .doesNotContain("s3cret-pass");
            }
        }
    }

    /**
     * A database that needs a password: given in OVERSEER_STORE_PASSWORD, or in a pgpass file
     * (PGPASSFILE), the server uses it, and it shows in no log line, answer or metric.
     */
    @Test
    void thePasswordComesFromTheEnvironmentOrAPgpassFileAndNeverShows() throws Exception {
        String password = "pw-" + UUID.randomUUID();
        script("start", password);
        Path pgpass = tmp.resolve("pgpass");
        Files.writeString(pgpass, "127.0.0.1:" + port + ":*:postgres:" + password + "\n");
        java.nio.file.Files.setPosixFilePermissions(
                pgpass, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("once.yml", "command: echo ran\n").commit("a job");
            for (var env : List.of(
                    Map.of("OVERSEER_STORE", store(), "OVERSEER_STORE_PASSWORD", password),
                    Map.of("OVERSEER_STORE", store(), "PGPASSFILE", pgpass.toString()))) {
                Path log = tmp.resolve("server-" + env.size() + env.containsKey("PGPASSFILE") + ".log");
                Path data = tmp.resolve("data-" + env.containsKey("PGPASSFILE"));
                try (JarServer server = JarServer.start(repo.url(), data, log, env)) {
                    long n = trigger(server).orElseThrow();
                    awaitFinished(server, n);
                    for (String path : List.of("/config", "/metrics", "/ready", "/health", "/jobs/once/" + n)) {
                        assertThat(server.send(HttpRequest.newBuilder(server.uri(path)))
                                        .body())
                                .as(path)
                                .doesNotContain(password);
                    }
                    assertThat(server.stop(Duration.ofSeconds(20))).isTrue();
                }
                assertThat(Files.readString(log))
                        .contains("store: postgresql://127.0.0.1:" + port)
                        .doesNotContain(password);
            }
        }
    }

    /**
     * Fenced by an outage its lease would not outlast, the node is the only one that could have
     * ended its work, and no one did: once the database is back it takes its lease back and
     * records what its executions did meanwhile, an end that was waiting for the database as it
     * happened (not lost) and a job its fence killed as killed, rather than leaving both to be
     * ended lost under an id it gave up.
     */
    @Test
    void aNodeFencedByAnOutageTakesItsLeaseBackAndRecordsWhatItsExecutionsDid() throws Exception {
        script("start");
        Path go = tmp.resolve("go");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("once.yml", "command: echo ran\n")
                    .with("waits.yml", "command: while [ ! -e " + go + " ]; do sleep 0.05; done; echo done\n")
                    .with("long.yml", "command: sleep 600\n")
                    .commit("jobs");
            Path log = tmp.resolve("server.log");
            try (JarServer server = JarServer.start(
                    repo.url(), tmp.resolve("data"), log, Map.of("OVERSEER_STORE", store()), "--node-timeout", "10")) {
                String node = server.json("/nodes").get("self").asText();
                assertThat(node).isNotEmpty();
                long waits = post(server, "waits");
                long sleeps = post(server, "long");
                awaitState(server, "waits", waits, "running");
                awaitState(server, "long", sleeps, "running");

                script("stop");
                Files.createFile(go);
                // The end is known and waits for the database; then the fence (9 s after the
                // last renewal) kills what still runs.
                awaitLog(server, "execution: waits/" + waits + " end not recorded, retrying");
                awaitLog(server, "cluster: node " + node + " fenced");
                script("start");
                awaitLog(server, "cluster: node " + node + " has its lease again");

                JsonNode ended = awaitFinished(server, "waits", waits);
                assertThat(ended.get("status").asText()).as(ended.toString()).isEqualTo("complete");
                assertThat(ended.get("node").asText()).isEqualTo(node);
                assertThat(server.send(HttpRequest.newBuilder(server.uri("/jobs/waits/" + waits + "/stdout")))
                                .body())
                        .isEqualTo("done\n");
                JsonNode killed = awaitFinished(server, "long", sleeps);
                assertThat(killed.get("status").asText()).as(killed.toString()).isEqualTo("fail");
                assertThat(killed.toString()).contains("SIGKILL");

                // Still the same node, live, and working.
                assertThat(server.json("/nodes").get("self").asText()).isEqualTo(node);
                assertThat(awaitReady(server).statusCode()).isEqualTo(200);
                JsonNode once = awaitFinished(server, "once", post(server, "once"));
                assertThat(once.get("status").asText()).isEqualTo("complete");
            }
            assertThat(Files.readString(log)).doesNotContain("\tat ").doesNotContain("Exception in");
        }
    }

    private static long post(JarServer server, String job) throws Exception {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/" + job))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(r.statusCode()).as(r.body()).isIn(201, 202);
        return JSON.readTree(r.body()).get("execution").asLong();
    }

    private static void awaitState(JarServer server, String job, long n, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode e;
        do {
            e = server.json("/jobs/" + job + "/" + n);
            if (e.path("state").asText().equals(state)) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(job + "/" + n + " is not " + state + ": " + e);
    }

    private static void awaitLog(JarServer server, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!server.log().contains(line)) {
            assertThat(System.nanoTime()).as("the server logs '%s'", line).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** POSTs a trigger: its execution number when acknowledged; a refusal must be a 503. */
    private static java.util.Optional<Long> trigger(JarServer server) throws Exception {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/once"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
        if (r.statusCode() / 100 == 2) {
            return java.util.Optional.of(
                    JSON.readTree(r.body()).get("execution").asLong());
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        return java.util.Optional.empty();
    }

    private static JsonNode awaitFinished(JarServer server, long n) throws Exception {
        return awaitFinished(server, "once", n);
    }

    private static JsonNode awaitFinished(JarServer server, String job, long n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode e = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/" + job + "/" + n)));
            if (r.statusCode() == 200) {
                e = JSON.readTree(r.body());
                if (e.hasNonNull("finished_at") || e.path("finished").asBoolean(false)) {
                    return e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(job + "/" + n + " did not finish: " + e);
    }

    private static HttpResponse<String> awaitReady(JarServer server) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> r;
        do {
            r = server.send(HttpRequest.newBuilder(server.uri("/ready")));
            if (r.statusCode() == 200) {
                return r;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return r;
    }
}
