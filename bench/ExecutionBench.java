// Benchmark of executions. Run with bench/run executions (builds the jar first).
//
// The server runs in this JVM (so its heap can be watched) on a Git repository with two jobs:
// `true`, and one that prints 1 GiB to stdout.
// 1. spawn baseline: `/bin/true` started and waited for directly, with the server's launcher
//    (posix_spawn through FFM) and with ProcessBuilder, one at a time.
// 2. trigger: POST /jobs/true from 1 and from 8 client threads; response time p50/p99 and
//    completed executions per second (first POST to last execution finished), with GET /health
//    as the baseline for HTTP overhead.
// 3. capture: the 1 GiB job's rate (start to finish), against `head -c 1G /dev/zero > file` on
//    the same disk, and the heap used meanwhile, sampled every 20 ms.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import overseer.Overseer;
import overseer.process.Launcher;
import overseer.process.PosixSpawnLauncher;

public class ExecutionBench {
    static final HttpClient client = HttpClient.newHttpClient();
    static final ObjectMapper json = new ObjectMapper();
    static final long GIB = 1L << 30;

    public static void main(String[] args) throws Exception {
        int triggers = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        Path tmp = Files.createTempDirectory("overseer-bench-exec");
        Path repo = tmp.resolve("repo");
        Files.createDirectories(repo);
        Files.writeString(repo.resolve("true.yml"), "command: \"true\"\n");
        Files.writeString(repo.resolve("gib.yml"), "command: head -c " + GIB + " /dev/zero\n");
        BenchRepos.commitAll(repo);
        System.out.printf(
                "machine: %d cores, java %s, max heap %d MB%n",
                Runtime.getRuntime().availableProcessors(),
                Runtime.version(),
                Runtime.getRuntime().maxMemory() >> 20);

        spawnBaseline(200);

        var options =
                BenchRepos.options(repo, tmp.resolve("data"), overseer.event.RetrySchedule.DEFAULT, System.getenv());
        try (Overseer server = Overseer.start(options)) {
            String base = "http://127.0.0.1:" + server.address().getPort();
            // Warm-up: JIT and the first checkout.
            trigger(base, 1, 100, "warm-up");
            trigger(base, 1, triggers, "1 client");
            trigger(base, 8, triggers, "8 clients");
            capture(base, tmp);
        } finally {
            deleteTree(tmp);
        }
    }

    static void spawnBaseline(int n) throws Exception {
        System.out.printf("%n== spawn baseline: /bin/true, %d times, one at a time ==%n", n);
        Launcher launcher = new PosixSpawnLauncher();
        Path dir = Path.of("/");
        for (int round = 0; round < 2; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Launcher.Process p = launcher.start(new Launcher.Command(List.of("/bin/true"), List.of(), dir));
                p.stdout().close();
                p.stderr().close();
                p.exit().get();
            }
            double ffm = n / ((System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                // Only here, for the comparison: the server itself never uses ProcessBuilder.
                Process p = new ProcessBuilder("/bin/true").start();
                p.waitFor();
            }
            double pb = n / ((System.nanoTime() - t0) / 1e9);
            System.out.printf("round %d: posix_spawn (FFM) %.0f/s, ProcessBuilder %.0f/s%n", round + 1, ffm, pb);
        }
    }

    static void trigger(String base, int clients, int total, String label) throws Exception {
        List<Long> triggerNanos = Collections.synchronizedList(new ArrayList<>());
        List<Long> healthNanos = Collections.synchronizedList(new ArrayList<>());
        List<Integer> numbers = Collections.synchronizedList(new ArrayList<>());
        AtomicLong left = new AtomicLong(total);
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        long s = System.nanoTime();
                        HttpResponse<String> r = client.send(
                                HttpRequest.newBuilder(URI.create(base + "/jobs/true"))
                                        .POST(HttpRequest.BodyPublishers.noBody())
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        triggerNanos.add(System.nanoTime() - s);
                        if (r.statusCode() != 201) {
                            throw new IllegalStateException("trigger gave " + r.statusCode() + ": " + r.body());
                        }
                        numbers.add(json.readTree(r.body()).get("execution").asInt());
                        s = System.nanoTime();
                        client.send(
                                HttpRequest.newBuilder(URI.create(base + "/health"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        healthNanos.add(System.nanoTime() - s);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        int last = Collections.max(numbers);
        while (true) {
            JsonNode e = get(base + "/jobs/true/" + last);
            // Executions finish out of order under concurrency: wait for every one.
            if (!e.get("finished_at").isNull()
                    && get(base + "/jobs/true/executions?limit=1&status=start").isEmpty()
                    && get(base + "/jobs/true/executions?limit=1&status=queued").isEmpty()) {
                break;
            }
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (label.equals("warm-up")) {
            return;
        }
        System.out.printf(
                "%n== trigger `true`, %s, %d executions ==%nPOST /jobs/true: p50 %.1f ms, p99 %.1f ms"
                        + " (GET /health baseline: p50 %.1f ms, p99 %.1f ms)%ncompleted: %.0f executions/s%n",
                label,
                total,
                pct(triggerNanos, 50),
                pct(triggerNanos, 99),
                pct(healthNanos, 50),
                pct(healthNanos, 99),
                total / seconds);
    }

    static void capture(String base, Path tmp) throws Exception {
        System.out.printf("%n== capture: 1 GiB to stdout ==%n");
        Path file = tmp.resolve("baseline");
        long t0 = System.nanoTime();
        new ProcessBuilder("sh", "-c", "head -c " + GIB + " /dev/zero > " + file)
                .inheritIO()
                .start()
                .waitFor();
        double baseline = GIB / ((System.nanoTime() - t0) / 1e9) / 1e6;
        Files.delete(file);

        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        Thread.sleep(200);
        long before = memory.getHeapMemoryUsage().getUsed();
        AtomicLong peak = new AtomicLong(before);
        JsonNode created = json.readTree(client.send(
                        HttpRequest.newBuilder(URI.create(base + "/jobs/gib"))
                                .POST(HttpRequest.BodyPublishers.noBody())
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
        String url = base + "/jobs/gib/" + created.get("execution").asInt();
        JsonNode e;
        while ((e = get(url)).get("finished_at").isNull()) {
            peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            Thread.sleep(20);
        }
        System.gc();
        Thread.sleep(200);
        long after = memory.getHeapMemoryUsage().getUsed();
        double seconds = Duration.between(
                                Instant.parse(e.get("started_at").asText()),
                                Instant.parse(e.get("finished_at").asText()))
                        .toMillis()
                / 1000.0;
        System.out.printf(
                "status %s; %.0f MB/s (baseline `head -c 1G /dev/zero > file`: %.0f MB/s)%n"
                        + "heap: %d MB before, peak %d MB during (+%d MB), %d MB after GC (+%d MB)%n",
                e.get("status").asText(),
                GIB / seconds / 1e6,
                baseline,
                before >> 20,
                peak.get() >> 20,
                (peak.get() - before) >> 20,
                after >> 20,
                (after - before) >> 20);
    }

    static JsonNode get(String url) throws Exception {
        return json.readTree(
                client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                        .body());
    }

    static double pct(List<Long> nanos, int p) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
    }

    static void deleteTree(Path dir) throws Exception {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }
}
