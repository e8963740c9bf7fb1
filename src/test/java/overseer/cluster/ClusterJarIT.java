package overseer.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.JarServer;
import overseer.testing.TestPostgres;
import overseer.testing.TestRepo;

/**
 * Several packaged servers on one PostgreSQL database, with the shortest lease ({@code
 * --node-timeout 3}): what is triggered through any of them runs once, on one of them; a node
 * that dies or freezes has its work ended by the others, its processes killed by its watchdog,
 * and records nothing for what it lost.
 */
class ClusterJarIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String database;
    private final List<JarServer> servers = new ArrayList<>();

    @BeforeEach
    void database() {
        database = TestPostgres.create();
    }

    @AfterEach
    void stop() {
        for (JarServer s : servers) {
            s.process().toHandle().destroyForcibly();
        }
        for (JarServer s : servers) {
            s.close();
        }
        TestPostgres.drop(database);
    }

    private String store() {
        var pg = TestPostgres.location(database);
        StringBuilder url = new StringBuilder(pg.describe());
        String sep = "?";
        for (var e : pg.params().entrySet()) {
            url.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = "&";
        }
        return url.toString();
    }

    private JarServer node(TestRepo repo, String name, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("--node-timeout", "3"));
        args.addAll(List.of(more));
        JarServer s = JarServer.start(
                repo.url(),
                tmp.resolve("data-" + name),
                tmp.resolve(name + ".log"),
                Map.of("OVERSEER_STORE", store()),
                args.toArray(String[]::new));
        servers.add(s);
        return s;
    }

    @Test
    void fiveHundredTriggersOverThreeNodesRunOnceEachNumberedWithoutGaps() throws Exception {
        Path marks = tmp.resolve("marks");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("mark.yml", "command: echo \"$OVERSEER_EXECUTION\" >> " + marks + "\n")
                    .commit("a job");
            List<JarServer> nodes = List.of(node(repo, "a"), node(repo, "b"), node(repo, "c"));
            int triggers = 500;
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<Long>> made = new ArrayList<>();
            for (int i = 0; i < triggers; i++) {
                JarServer via = nodes.get(i % nodes.size());
                made.add(pool.submit(() -> {
                    HttpResponse<String> r = via.send(HttpRequest.newBuilder(via.uri("/jobs/mark"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{}")));
                    assertThat(r.statusCode()).as(r.body()).isIn(201, 202);
                    return JSON.readTree(r.body()).get("execution").asLong();
                }));
            }
            Set<Long> numbers = new HashSet<>();
            for (Future<Long> f : made) {
                numbers.add(f.get(120, TimeUnit.SECONDS));
            }
            pool.shutdown();
            assertThat(numbers).hasSize(triggers);
            assertThat(numbers.stream().mapToLong(Long::longValue).max().orElseThrow())
                    .as("numbered 1 to %d without a gap", triggers)
                    .isEqualTo(triggers);

            Map<String, Integer> byNode = new HashMap<>();
            for (long n = 1; n <= triggers; n++) {
                JsonNode e = awaitFinished(nodes.get((int) (n % 3)), "mark", n);
                assertThat(e.get("status").asText()).as("execution %d", n).isEqualTo("complete");
                byNode.merge(e.get("node").asText(), 1, Integer::sum);
            }
            List<String> lines = Files.readAllLines(marks);
            assertThat(lines).as("each execution ran once").hasSize(triggers);
            assertThat(new HashSet<>(lines)).hasSize(triggers);
            assertThat(byNode.keySet())
                    .as("executions ran on more than one node: %s", byNode)
                    .hasSizeGreaterThan(1);

            JsonNode cluster = nodes.getFirst().json("/nodes");
            List<String> live = new ArrayList<>();
            cluster.get("nodes").forEach(n -> {
                if (n.get("state").asText().equals("live")) {
                    live.add(n.get("id").asText());
                }
            });
            assertThat(live).hasSize(3).containsAll(byNode.keySet());
        }
    }

    @Test
    void aKilledNodesExecutionsAreLostNamingItAndItsProcessesAreGone() throws Exception {
        Path pids = Files.createDirectories(tmp.resolve("pids"));
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("long.yml", "command: echo $$ > " + pids + "/$OVERSEER_EXECUTION; exec sleep 600\n")
                    .with("quick.yml", "command: echo done\n")
                    .commit("jobs");
            JarServer victim = node(repo, "victim", "--max-concurrent", "4");
            JarServer other = node(repo, "other", "--max-concurrent", "1");
            // Taken by the victim: the other node's only slot is held by the first.
            List<Long> long1 = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long1.add(victim.post("/jobs/long").get("execution").asLong());
            }
            String victimId = victim.json("/nodes").get("self").asText();
            Map<Long, Long> pidOf = new HashMap<>();
            List<Long> onVictim = new ArrayList<>();
            for (long n : long1) {
                JsonNode e = awaitState(victim, "long", n, "running");
                Path pidFile = pids.resolve(Long.toString(n));
                awaitFile(pidFile);
                pidOf.put(n, Long.parseLong(Files.readString(pidFile).strip()));
                if (e.get("node").asText().equals(victimId)) {
                    onVictim.add(n);
                }
            }
            assertThat(onVictim).as("the victim runs some of them").isNotEmpty();

            victim.process().toHandle().destroyForcibly();
            long killedAt = System.nanoTime();
            for (long n : onVictim) {
                JsonNode e = awaitFinished(other, "long", n);
                assertThat(e.get("status").asText()).isEqualTo("lost");
                assertThat(Duration.ofNanos(System.nanoTime() - killedAt))
                        .as("lost within the lease and 5 s")
                        .isLessThan(Duration.ofSeconds(8));
                JsonNode events = other.json("/jobs/long/" + n).get("events");
                JsonNode last = events.get(events.size() - 1);
                assertThat(last.get("cause").asText()).contains("node " + victimId);
                assertThat(gone(pidOf.get(n)))
                        .as("process of execution %d is gone", n)
                        .isTrue();
            }
            // The other node works on.
            long quick = other.post("/jobs/quick").get("execution").asLong();
            assertThat(awaitFinished(other, "quick", quick).get("status").asText())
                    .isEqualTo("complete");
            JsonNode dead = null;
            for (JsonNode n : other.json("/nodes").get("nodes")) {
                if (n.get("id").asText().equals(victimId)) {
                    dead = n;
                }
            }
            assertThat(dead).isNotNull();
            assertThat(dead.get("state").asText()).isEqualTo("dead");
        }
    }

    @Test
    void aNodeFrozenPastItsLeaseHasItsJobKilledAndRecordsNothingWhenItResumes() throws Exception {
        Path runs = tmp.resolve("runs");
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with(
                            "one.yml",
                            "concurrency: 1\ncommand: echo \"start $OVERSEER_EXECUTION $$\" >> " + runs
                                    + "; sleep 600\n")
                    .commit("a job");
            JarServer frozen = node(repo, "frozen");
            long first = frozen.post("/jobs/one").get("execution").asLong();
            awaitState(frozen, "one", first, "running");
            String frozenId = frozen.json("/nodes").get("self").asText();
            JarServer other = node(repo, "other");
            long second = other.post("/jobs/one").get("execution").asLong();
            assertThat(other.json("/jobs/one/" + second).get("state").asText()).isEqualTo("queued");

            long frozenPid = frozen.process().pid();
            signal("STOP", frozenPid);
            try {
                JsonNode lost = awaitFinished(other, "one", first);
                assertThat(lost.get("status").asText()).isEqualTo("lost");
                JsonNode next = awaitState(other, "one", second, "running");
                assertThat(next.get("node").asText()).isNotEqualTo(frozenId);
                long firstPid =
                        Long.parseLong(Files.readAllLines(runs).getFirst().split(" ")[2]);
                assertThat(gone(firstPid))
                        .as("the watchdog killed the frozen node's job before its lease ran out")
                        .isTrue();
            } finally {
                signal("CONT", frozenPid);
            }
            // Once it resumed, it records nothing for what it lost: the lost end stays the last event.
            awaitLogged(frozen, "fenced");
            JsonNode events = other.json("/jobs/one/" + first).get("events");
            assertThat(events.get(events.size() - 1).get("name").asText()).isEqualTo("lost");
            assertThat(Files.readAllLines(runs)).as("one start at a time").hasSize(2);
        }
    }

    @Test
    void aJobForLabelledNodesRunsOnlyThereAndWaitsSayingWhyWhileNoneIsUp() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("gpu.yml", "nodes: [gpu]\ncommand: echo on a gpu\n").commit("a labelled job");
            JarServer plain = node(repo, "plain");
            long first = plain.post("/jobs/gpu").get("execution").asLong();
            JsonNode waiting = plain.json("/jobs/gpu/" + first);
            assertThat(waiting.get("state").asText()).isEqualTo("queued");
            assertThat(waiting.get("waiting").asText()).isEqualTo("no live node has the label gpu");
            JsonNode cluster = plain.json("/nodes");
            assertThat(cluster.get("waiting")).hasSize(1);
            assertThat(cluster.get("waiting").get(0).get("queued").asInt()).isEqualTo(1);
            assertThat(plain.send(HttpRequest.newBuilder(plain.uri("/metrics"))).body())
                    .contains("overseer_queued_without_node 1.0");

            JarServer gpu = node(repo, "gpu", "--node-labels", "gpu,big");
            String gpuId = gpu.json("/nodes").get("self").asText();
            JsonNode ran = awaitFinished(plain, "gpu", first);
            assertThat(ran.get("status").asText()).as(ran.toString()).isEqualTo("complete");
            assertThat(ran.get("node").asText()).isEqualTo(gpuId);
            // Triggered through the unlabelled node, it still runs on the labelled one.
            long second = plain.post("/jobs/gpu").get("execution").asLong();
            assertThat(awaitFinished(plain, "gpu", second).get("node").asText()).isEqualTo(gpuId);
            assertThat(plain.json("/nodes").get("waiting")).isEmpty();
        }
    }

    @Test
    void aJobDisabledThroughOneNodeIsRefusedByTheOthersWithinASecond() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("x.yml", "command: echo x\n").commit("a job");
            JarServer a = node(repo, "a");
            JarServer b = node(repo, "b");
            HttpResponse<String> off =
                    a.send(HttpRequest.newBuilder(a.uri("/jobs/x")).DELETE());
            assertThat(off.statusCode()).as(off.body()).isLessThan(300);
            long disabledAt = System.nanoTime();
            int status;
            do {
                status = b.send(HttpRequest.newBuilder(b.uri("/jobs/x"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{}")))
                        .statusCode();
                if (status / 100 == 2) {
                    Thread.sleep(50);
                }
            } while (status / 100 == 2 && System.nanoTime() - disabledAt < TimeUnit.SECONDS.toNanos(5));
            assertThat(status).isEqualTo(409);
            assertThat(Duration.ofNanos(System.nanoTime() - disabledAt)).isLessThan(Duration.ofMillis(1500));
            HttpResponse<String> on =
                    b.send(HttpRequest.newBuilder(b.uri("/jobs/x")).PUT(HttpRequest.BodyPublishers.noBody()));
            assertThat(on.statusCode()).as(on.body()).isLessThan(300);
            long enabledAt = System.nanoTime();
            do {
                status = a.send(HttpRequest.newBuilder(a.uri("/jobs/x"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{}")))
                        .statusCode();
                if (status / 100 != 2) {
                    Thread.sleep(50);
                }
            } while (status / 100 != 2 && System.nanoTime() - enabledAt < TimeUnit.SECONDS.toNanos(5));
            assertThat(status / 100).isEqualTo(2);
            assertThat(Duration.ofNanos(System.nanoTime() - enabledAt)).isLessThan(Duration.ofMillis(1500));
        }
    }

    @Test
    void aScheduleEverySecondFiresOncePerSecondAcrossThreeNodes() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("tick.yml", "schedule:\n  - frequency: \"* * * * * *\"\ncommand: echo tick\n")
                    .commit("a schedule");
            List<JarServer> nodes = List.of(node(repo, "a"), node(repo, "b"), node(repo, "c"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
            while (System.nanoTime() < until) {
                Thread.sleep(500);
            }
            JsonNode all = nodes.get(1).json("/jobs/tick/executions?limit=500");
            Map<String, Integer> perSecond = new HashMap<>();
            Set<String> ranOn = new HashSet<>();
            all.forEach(e -> {
                perSecond.merge(e.get("scheduled_at").asText(), 1, Integer::sum);
                if (e.hasNonNull("node")) {
                    ranOn.add(e.get("node").asText());
                }
            });
            assertThat(perSecond.values())
                    .as("fires per due second: %s", perSecond)
                    .allMatch(n -> n == 1);
            assertThat(perSecond).as("about one fire a second").hasSizeGreaterThanOrEqualTo(8);
        }
    }

    @Test
    void replaceEndsTheExecutionAnotherNodeRuns() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("one.yml", "concurrency: 1\noverlap: replace\ncommand: sleep 600\n")
                    .commit("a job");
            JarServer a = node(repo, "a");
            JarServer b = node(repo, "b");
            long first = a.post("/jobs/one").get("execution").asLong();
            JsonNode running = awaitState(a, "one", first, "running");
            String aId = a.json("/nodes").get("self").asText();
            assertThat(running.get("node").asText()).isEqualTo(aId);
            long second = b.post("/jobs/one").get("execution").asLong();
            JsonNode ended = awaitFinished(b, "one", first);
            assertThat(ended.get("events"))
                    .anySatisfy(e -> assertThat(e.get("cause").asText()).isEqualTo("replaced by execution " + second));
            JsonNode next = awaitState(b, "one", second, "running");
            assertThat(java.time.Instant.parse(next.get("started_at").asText()))
                    .as("the replacement starts once the replaced one ended")
                    .isAfterOrEqualTo(
                            java.time.Instant.parse(ended.get("finished_at").asText()));
        }
    }

    @Test
    void skipAndTheQueuesBoundHoldAcrossNodesUnderABurst() throws Exception {
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("skip.yml", "concurrency: 1\noverlap: skip\ncommand: sleep 600\n")
                    .with("queue.yml", "concurrency: 1\ncommand: sleep 600\n")
                    .commit("jobs");
            List<JarServer> nodes = List.of(
                    node(repo, "a", "--max-queued", "5"),
                    node(repo, "b", "--max-queued", "5"),
                    node(repo, "c", "--max-queued", "5"));
            Map<Integer, Integer> skip = burst(nodes, "/jobs/skip", 30);
            assertThat(skip).as("one taken, the rest refused: %s", skip).containsOnlyKeys(201, 409);
            assertThat(skip.get(201)).isEqualTo(1);
            Map<Integer, Integer> queue = burst(nodes, "/jobs/queue", 30);
            // One runs, five wait (the cluster's bound), the rest are refused.
            int taken = queue.getOrDefault(201, 0) + queue.getOrDefault(202, 0);
            assertThat(taken).as("%s", queue).isEqualTo(6);
            assertThat(queue.get(503)).isEqualTo(24);
        }
    }

    private static Map<Integer, Integer> burst(List<JarServer> nodes, String path, int count) throws Exception {
        Map<Integer, Integer> statuses = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(count);
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            JarServer via = nodes.get(i % nodes.size());
            calls.add(pool.submit(() -> {
                go.await();
                HttpResponse<String> r = via.send(HttpRequest.newBuilder(via.uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{}")));
                statuses.merge(r.statusCode(), 1, Integer::sum);
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : calls) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        return statuses;
    }

    private static void signal(String name, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    /** No such process, or only its zombie. */
    private static boolean gone(long pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            Path stat = Path.of("/proc/" + pid + "/stat");
            try {
                String s = Files.readString(stat);
                if (s.substring(s.lastIndexOf(')') + 2).startsWith("Z")) {
                    return true;
                }
            } catch (java.io.IOException noProcess) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static void awaitFile(Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(file) && !Files.readString(file).isBlank())) {
            assertThat(System.nanoTime()).as("%s is written", file).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static void awaitLogged(JarServer server, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!server.log().contains(text)) {
            assertThat(System.nanoTime()).as("the log says '%s'", text).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static JsonNode awaitState(JarServer server, String job, long n, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode e = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/" + job + "/" + n)));
            if (r.statusCode() == 200) {
                e = JSON.readTree(r.body());
                if (e.get("state").asText().equals(state)) {
                    return e;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("execution " + job + "/" + n + " did not become " + state + ": " + e);
    }

    private static JsonNode awaitFinished(JarServer server, String job, long n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode e = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/jobs/" + job + "/" + n)));
            if (r.statusCode() == 200) {
                e = JSON.readTree(r.body());
                if (e.hasNonNull("finished_at")) {
                    return e;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("execution " + job + "/" + n + " did not finish: " + e);
    }
}
