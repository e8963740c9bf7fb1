// Benchmark of events and webhooks. Run with bench/run webhooks (builds the jar first).
//
// 1. `event` latency: one job calls the event helper 300 times in a row and times each call
//    with `date +%s%N` around it (the two `date` runs are outside the measured interval).
// 2. delivery rate: executions of a job with nothing to run (no process) and a `*` hook to a
//    receiver on 127.0.0.1 (the JDK's HttpServer answering 200); deliveries per second from the
//    first trigger to the last delivery received.
// 3. drain: with the receiver down, a backlog of about 10,000 deliveries piles up; then the
//    receiver comes back and the time until all have arrived is measured.
// 4. the cost of a hook: executions/s of `true` with one `*` hook against the same job without,
//    interleaved over 3 rounds in the same server.

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import overseer.Overseer;
import overseer.event.RetrySchedule;

public class WebhookBench {
    static final HttpClient client = HttpClient.newHttpClient();
    static final ObjectMapper json = new ObjectMapper();
    static final AtomicLong received = new AtomicLong();

    public static void main(String[] args) throws Exception {
        int backlog = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Path tmp = Files.createTempDirectory("overseer-bench-hooks");
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String hook = "http://127.0.0.1:" + port + "/hook";
        Path repo = tmp.resolve("repo");
        Files.createDirectories(repo);
        Files.writeString(repo.resolve("ticks.yml"), """
                command: |
                  for i in $(seq 300); do s=$(date +%s%N); event tick; e=$(date +%s%N); echo $((e - s)); done
                """);
        Files.writeString(repo.resolve("nothing.yml"), """
                description: nothing to run
                hooks:
                  - {url: %s, events: ["*"]}
                """.formatted(hook));
        Files.writeString(repo.resolve("hooked.yml"), """
                command: "true"
                hooks:
                  - {url: %s, events: ["*"]}
                """.formatted(hook));
        Files.writeString(repo.resolve("plain.yml"), "command: \"true\"\n");
        BenchRepos.commitAll(repo);
        var options = BenchRepos.options(repo, tmp.resolve("data"), RetrySchedule.parse("1s"), Map.of());
        HttpServer receiver = receiver(port);
        try (Overseer server = Overseer.start(options)) {
            String base = "http://127.0.0.1:" + server.address().getPort();
            eventLatency(base);
            deliveryRate(base, 1000);
            receiver.stop(0);
            drain(base, backlog, port);
            hookCost(base, 300);
        } finally {
            ExecutionBench.deleteTree(tmp);
        }
        System.exit(0);
    }

    static HttpServer receiver(int port) throws Exception {
        HttpServer r = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 200);
        r.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        r.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            received.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        r.start();
        return r;
    }

    static void eventLatency(String base) throws Exception {
        int n = post(base + "/jobs/ticks?wait=120");
        List<Long> nanos = new ArrayList<>();
        for (String line : get(base + "/jobs/ticks/" + n + "/stdout").split("\n")) {
            nanos.add(Long.parseLong(line.strip()));
        }
        System.out.printf(
                "%n== `event` from a job, %d calls in a row ==%np50 %.1f ms, p99 %.1f ms%n",
                nanos.size(), ExecutionBench.pct(nanos, 50), ExecutionBench.pct(nanos, 99));
    }

    static void deliveryRate(String base, int executions) throws Exception {
        long before = received.get();
        long expected = before + 3L * executions;
        long t0 = System.nanoTime();
        triggerMany(base, "nothing", executions, 8);
        while (received.get() < expected) {
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "%n== deliveries to a receiver on 127.0.0.1: %d executions x 3 events ==%n"
                        + "%.0f deliveries/s (trigger to last delivery, %.1f s)%n",
                executions, 3 * executions / seconds, seconds);
    }

    static void drain(String base, int backlog, int port) throws Exception {
        int executions = (backlog + 2) / 3;
        long before = received.get();
        triggerMany(base, "nothing", executions, 8);
        Thread.sleep(1500);
        long t0 = System.nanoTime();
        HttpServer receiver = receiver(port);
        long expected = before + 3L * executions;
        while (received.get() < expected) {
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "%n== drain: %d deliveries pending while the receiver was down ==%n"
                        + "all arrived %.1f s after it came back (%.0f deliveries/s)%n",
                3 * executions, seconds, 3 * executions / seconds);
    }

    static void hookCost(String base, int executions) throws Exception {
        System.out.printf(
                "%n== `true` with one `*` hook against without, %d executions each, 8 clients ==%n", executions);
        for (int round = 1; round <= 3; round++) {
            double plain = rate(base, "plain", executions);
            double hooked = rate(base, "hooked", executions);
            System.out.printf(
                    "round %d: without %.0f/s, with hook %.0f/s (%+.0f%%)%n",
                    round, plain, hooked, 100 * (hooked - plain) / plain);
        }
    }

    static double rate(String base, String job, int executions) throws Exception {
        long t0 = System.nanoTime();
        int last = triggerMany(base, job, executions, 8);
        while (true) {
            String e = get(base + "/jobs/" + job + "/executions?limit=50");
            if (!e.contains("\"finished_at\":null") && e.contains("\"execution\":" + last + ",")) {
                break;
            }
            Thread.sleep(2);
        }
        return executions / ((System.nanoTime() - t0) / 1e9);
    }

    static int triggerMany(String base, String job, int total, int clients) throws Exception {
        AtomicLong left = new AtomicLong(total);
        List<Integer> numbers = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        numbers.add(post(base + "/jobs/" + job));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        return Collections.max(numbers);
    }

    static int post(String url) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(url))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException(url + " gave " + r.statusCode() + ": " + r.body());
        }
        return json.readTree(r.body()).get("execution").asInt();
    }

    static String get(String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }
}
