// Benchmark of configuration loading. Run with bench/run (builds the jar first).
//
// 1. start-to-served: wall time from spawning `java -jar target/overseer.jar serve` on a
//    repository of N job files until GET /health reports all N jobs (JVM start included).
// 2. no-change poll: POST /config/sync when nothing changed, against GET /health on the same
//    server as the baseline for HTTP overhead.
// Both for a Git repository (file:// remote) and a plain directory.

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

public class ConfigBench {
    static final HttpClient client = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path tmp = Files.createTempDirectory("overseer-bench");
        try {
            Path repo = tmp.resolve("repo");
            long t0 = System.nanoTime();
            writeJobs(repo, jobs);
            BenchRepos.commitAll(repo);
            System.out.printf("setup: %d job files committed in %.1f s%n", jobs, (System.nanoTime() - t0) / 1e9);
            Path plain = tmp.resolve("plain");
            writeJobs(plain, jobs);

            System.out.printf(
                    "%nmachine: %d cores, java %s%n", Runtime.getRuntime().availableProcessors(), Runtime.version());
            for (String[] source :
                    new String[][] {{"git (file://)", repo.toUri().toString()}, {"plain directory", plain.toString()}
                    }) {
                System.out.printf("%n== %s, %d jobs ==%n", source[0], jobs);
                for (int run = 1; run <= runs; run++) {
                    measure(List.of(), source[1], jobs, tmp.resolve("data-" + source[0].charAt(0) + run), run == runs);
                }
            }
            // JDK 25 ahead-of-time cache (JEP 483/515): one training run records loaded classes and
            // method profiles; later starts map them instead of loading and warming up again.
            Path aot = tmp.resolve("overseer.aot");
            System.out.printf("%n== git (file://), %d jobs, with an AOT cache from one training run ==%n", jobs);
            measure(
                    List.of("-XX:AOTCacheOutput=" + aot),
                    repo.toUri().toString(),
                    jobs,
                    tmp.resolve("data-aot-training"),
                    false);
            for (int run = 1; run <= runs; run++) {
                measure(
                        List.of("-XX:AOTCache=" + aot),
                        repo.toUri().toString(),
                        jobs,
                        tmp.resolve("data-aot" + run),
                        false);
            }
        } finally {
            try (var walk = Files.walk(tmp)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static void writeJobs(Path dir, int jobs) throws IOException {
        for (int i = 0; i < jobs; i++) {
            Path file = dir.resolve("team" + (i % 100) + "/job" + i + ".yml");
            Files.createDirectories(file.getParent());
            Files.writeString(file, """
                    description: benchmark job %d
                    command: echo {{ target }} %d
                    timeout: 60
                    vars:
                      - name: target
                        type: enum
                        values: [a, b, c]
                        default: a
                      - name: count
                        type: int
                        option: yes
                    schedule:
                      - frequency: "*/5 * * * *"
                    """.formatted(i, i));
        }
    }

    static void measure(List<String> jvmFlags, String repo, int jobs, Path data, boolean measurePolls)
            throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long start = System.nanoTime();
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmFlags);
        command.addAll(List.of(
                "-jar",
                "target/overseer.jar",
                "serve",
                "--repo",
                repo,
                "--data",
                data.toString(),
                "--listen",
                "127.0.0.1:" + port,
                "--poll",
                "3600"));
        Process server = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(data.resolveSibling(data.getFileName() + ".log").toFile())
                .start();
        try {
            URI health = URI.create("http://127.0.0.1:" + port + "/health");
            while (true) {
                if (!server.isAlive()) {
                    throw new IllegalStateException("server exited; see " + data + ".log");
                }
                try {
                    String body = client.send(
                                    HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString())
                            .body();
                    if (body.contains("\"jobs\":" + jobs)) {
                        break;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(10);
            }
            double served = (System.nanoTime() - start) / 1e6;
            String applied = Files.readAllLines(data.resolveSibling(data.getFileName() + ".log")).stream()
                    .filter(l -> l.contains("config: applied"))
                    .findFirst()
                    .orElse("");
            System.out.printf(
                    "%s to %d jobs served: %.0f ms (%s)%n",
                    jvmFlags.stream().anyMatch(f -> f.contains("Output")) ? "training run: start" : "start",
                    jobs,
                    served,
                    applied.replaceAll(".*\\(\\d+ jobs; (.*)\\)$", "$1"));
            if (measurePolls) {
                URI sync = URI.create("http://127.0.0.1:" + port + "/config/sync");
                for (int i = 0; i < 20; i++) {
                    time(sync, true);
                    time(health, false);
                }
                double[] polls = new double[100];
                double[] baseline = new double[100];
                for (int i = 0; i < polls.length; i++) {
                    polls[i] = time(sync, true);
                    baseline[i] = time(health, false);
                }
                System.out.printf(
                        "no-change poll (POST /config/sync): p50 %.2f ms, p99 %.2f ms%n",
                        pct(polls, 50), pct(polls, 99));
                System.out.printf(
                        "baseline GET /health:              p50 %.2f ms, p99 %.2f ms%n",
                        pct(baseline, 50), pct(baseline, 99));
            }
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    static double time(URI uri, boolean post) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        if (post) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        }
        long t = System.nanoTime();
        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        double ms = (System.nanoTime() - t) / 1e6;
        if (response.statusCode() != 200 || (post && !response.body().contains("\"result\":\"unchanged\""))) {
            throw new IllegalStateException(uri + " gave " + response.statusCode() + ": " + response.body());
        }
        return ms;
    }

    static double pct(double[] values, int p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
