// Overseer beside its peers, measured in one window. Run with bench/run peers [ROUNDS] [SECONDS].
//
// Interleaved over ROUNDS rounds (default 3), each load running SECONDS seconds (default 8):
// * the spawn limit: bench/spawn.c (posix_spawn + waitpid of `/bin/sh -c true`) on 1 and 2 threads;
// * adnanh/webhook (Debian's `webhook`) with a hook that answers after its `sh` script ran, at 1
//   and 8 clients of `hey`;
// * Overseer, the packaged jar in its own process with `--max-concurrent 8` and otherwise the
//   defaults (its audit line per trigger included), a job `command: echo done`, at 1 and 8
//   clients of `hey`. Its rate counts executions completed and
//   recorded: from the first POST to the moment the last accepted one finished.
// The table gives medians of the rounds, each figure also as a ratio to the spawn limit and to
// the webhook daemon, and the JSON goes to bench/results/<date>-<host>.json. Everything talks to
// 127.0.0.1 only. A peer that is missing (no cc, no webhook, no hey) is skipped with a message.
// * With a PostgreSQL server (third argument: a postgresql:// URL of a database to create others
//   from, default postgresql://127.0.0.1:5432/postgres?user=postgres; "none" to leave it out),
//   a second Overseer on `--store` PostgreSQL (a fresh database, dropped after) takes the same
//   loads in the same rounds ("overseer/pg"), and the report adds its commits and row writes per
//   execution from pg_stat_database deltas over the rounds, and the server's fsync and
//   synchronous_commit.

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class PeersBench {
    static final HttpClient client = HttpClient.newHttpClient();
    static final long TICKS = 100; // USER_HZ of /proc/<pid>/stat on Linux

    /** One measurement: a rate, and for HTTP loads the latencies and CPU per execution. */
    record Figure(double rate, double p50ms, double p99ms, double cpuMs, double childCpuMs) {
        static Figure rate(double rate) {
            return new Figure(rate, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        String pgUrl = args.length > 2 ? args[2] : "postgresql://127.0.0.1:5432/postgres?user=postgres";
        Path tmp = Files.createTempDirectory("overseer-bench-peers");
        System.out.printf(
                "machine: %s, %d cores, %s; %d rounds of %d s%n",
                host(), Runtime.getRuntime().availableProcessors(), cpuModel(), rounds, seconds);
        Optional<Path> spawn = compileSpawn(tmp);
        boolean hey = onPath("hey");
        if (!hey) {
            System.out.println("skipped: the HTTP loads need `hey` (Debian package hey)");
        }
        Optional<Process> webhook = hey ? startWebhook(tmp) : Optional.empty();
        Map<String, List<Figure>> figures = new LinkedHashMap<>();
        Overseer overseer = hey ? Overseer.start(tmp, tmp.resolve("data"), List.of()) : null;
        Optional<Postgres> pg = hey ? Postgres.create(pgUrl) : Optional.empty();
        Overseer onPg = pg.isPresent()
                ? Overseer.start(
                        tmp, tmp.resolve("data-pg"), List.of("--store", pg.get().store()))
                : null;
        Postgres.Counts pgBefore = null;
        double pgFinishedBefore = 0;
        try {
            for (Overseer o : java.util.Arrays.asList(overseer, onPg)) {
                if (o != null) {
                    // JIT, the first checkout, the first output directories.
                    o.load(1, 3);
                    o.load(8, 3);
                }
            }
            if (onPg != null) {
                pgBefore = pg.get().counts();
                pgFinishedBefore = onPg.finished();
            }
            for (int round = 1; round <= rounds; round++) {
                System.out.printf("round %d of %d%n", round, rounds);
                if (spawn.isPresent()) {
                    add(figures, "spawn limit, 1 thread", Figure.rate(spawnRate(spawn.get(), 1, 3)));
                    add(figures, "spawn limit, 2 threads", Figure.rate(spawnRate(spawn.get(), 2, 3)));
                }
                if (webhook.isPresent()) {
                    add(figures, "webhook, 1 client", webhookLoad(1, seconds));
                }
                if (overseer != null) {
                    add(figures, "overseer, 1 client", overseer.load(1, seconds));
                }
                if (onPg != null) {
                    add(figures, "overseer/pg, 1 client", onPg.load(1, seconds));
                }
                if (webhook.isPresent()) {
                    add(figures, "webhook, 8 clients", webhookLoad(8, seconds));
                }
                if (overseer != null) {
                    add(figures, "overseer, 8 clients", overseer.load(8, seconds));
                }
                if (onPg != null) {
                    add(figures, "overseer/pg, 8 clients", onPg.load(8, seconds));
                }
            }
            if (onPg != null) {
                // Backends report their statistics at most once a second, and idle ones later.
                Thread.sleep(12_000);
                Postgres.Counts after = pg.get().counts();
                double executions = onPg.finished() - pgFinishedBefore;
                System.out.printf(
                        "overseer/pg: %.0f executions over the rounds: %.2f commits, %.2f row writes and %.2f WAL"
                                + " fsyncs per execution (pg_stat_database: %d commits, %d rows written; reads in"
                                + " auto-commit count as commits; pg_stat_wal is the whole server's);"
                                + " server fsync=%s synchronous_commit=%s%n",
                        executions,
                        (after.commits() - pgBefore.commits()) / executions,
                        (after.rowWrites() - pgBefore.rowWrites()) / executions,
                        (after.walSyncs() - pgBefore.walSyncs()) / executions,
                        after.commits() - pgBefore.commits(),
                        after.rowWrites() - pgBefore.rowWrites(),
                        pg.get().show("fsync"),
                        pg.get().show("synchronous_commit"));
            }
            if (overseer != null) {
                System.out.printf("overseer idle RSS after the loads: %d MB%n", overseer.rssKb() / 1024);
            }
        } finally {
            if (overseer != null) {
                overseer.close();
            }
            if (onPg != null) {
                onPg.close();
            }
            pg.ifPresent(Postgres::drop);
            webhook.ifPresent(Process::destroy);
        }
        report(figures);
        deleteTree(tmp);
    }

    static void add(Map<String, List<Figure>> figures, String name, Figure f) {
        System.out.printf(
                "  %-24s %8.1f/s%s%n",
                name,
                f.rate(),
                Double.isNaN(f.p50ms())
                        ? ""
                        : String.format(
                                "  p50 %.1f ms  p99 %.1f ms%s",
                                f.p50ms(),
                                f.p99ms(),
                                Double.isNaN(f.cpuMs())
                                        ? ""
                                        : String.format(
                                                "  server CPU %.2f ms/execution (children %.2f)",
                                                f.cpuMs(), f.childCpuMs())));
        figures.computeIfAbsent(name, k -> new ArrayList<>()).add(f);
    }

    // ---- the spawn limit

    static Optional<Path> compileSpawn(Path tmp) throws Exception {
        if (!onPath("cc")) {
            System.out.println("skipped: the spawn limit needs a C compiler (cc)");
            return Optional.empty();
        }
        Path binary = tmp.resolve("spawn");
        Process cc = new ProcessBuilder("cc", "-O2", "-pthread", "-o", binary.toString(), "bench/spawn.c")
                .inheritIO()
                .start();
        if (cc.waitFor() != 0) {
            System.out.println("skipped: bench/spawn.c did not compile");
            return Optional.empty();
        }
        return Optional.of(binary);
    }

    static double spawnRate(Path binary, int threads, int seconds) throws Exception {
        Process p = new ProcessBuilder(binary.toString(), Integer.toString(threads), Integer.toString(seconds))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Double.parseDouble(out);
    }

    // ---- adnanh/webhook

    static int webhookPort;

    static Optional<Process> startWebhook(Path tmp) throws Exception {
        if (!onPath("webhook")) {
            System.out.println("skipped: the webhook daemon needs `webhook` (Debian package webhook)");
            return Optional.empty();
        }
        Path script = Files.writeString(tmp.resolve("done.sh"), "#!/bin/sh\necho done\n");
        script.toFile().setExecutable(true);
        Path hooks = Files.writeString(
                tmp.resolve("hooks.json"),
                "[{\"id\": \"done\", \"execute-command\": \"" + script
                        + "\", \"include-command-output-in-response\": true}]");
        webhookPort = freePort();
        Process p = new ProcessBuilder(
                        "webhook",
                        "-hooks",
                        hooks.toString(),
                        "-ip",
                        "127.0.0.1",
                        "-port",
                        Integer.toString(webhookPort))
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("webhook.log").toFile())
                .start();
        awaitHttp("http://127.0.0.1:" + webhookPort + "/hooks/done", "POST");
        return Optional.of(p);
    }

    static Figure webhookLoad(int clients, int seconds) throws Exception {
        Hey h = hey("http://127.0.0.1:" + webhookPort + "/hooks/done", clients, seconds);
        return new Figure(h.ok() / h.seconds(), h.p50ms(), h.p99ms(), Double.NaN, Double.NaN);
    }

    // ---- Overseer

    static final class Overseer implements AutoCloseable {
        final Process process;
        final String base;
        final Path log;

        Overseer(Process process, String base, Path log) {
            this.process = process;
            this.base = base;
            this.log = log;
        }

        static Overseer start(Path tmp, Path data, List<String> more) throws Exception {
            Path repo = tmp.resolve("repo");
            if (!Files.isDirectory(repo)) {
                Files.createDirectories(repo);
                Files.writeString(repo.resolve("done.yml"), "command: echo done\n");
                BenchRepos.commitAll(repo);
            }
            int port = freePort();
            Path log = tmp.resolve(data.getFileName() + ".log");
            String java =
                    Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(List.of(
                    java,
                    "-jar",
                    System.getProperty("overseer.jar", "target/overseer.jar"),
                    "serve",
                    "--repo",
                    repo.toString(),
                    "--data",
                    data.toString(),
                    "--listen",
                    "127.0.0.1:" + port,
                    "--max-concurrent",
                    "8",
                    "--max-queued",
                    "1000000"));
            command.addAll(more);
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            long t0 = System.nanoTime();
            Overseer o = new Overseer(p, "http://127.0.0.1:" + port, log);
            awaitHttp(o.base + "/jobs/done", "GET");
            System.out.printf(
                    "overseer%s: serving in %d ms; idle RSS %d MB%n",
                    more.isEmpty() ? "" : " " + String.join(" ", more),
                    (System.nanoTime() - t0) / 1_000_000,
                    o.rssKb() / 1024);
            return o;
        }

        Figure load(int clients, int seconds) throws Exception {
            double before = finished();
            long[] cpu0 = cpuTicks();
            long t0 = System.nanoTime();
            Hey h = hey(base + "/jobs/done", clients, seconds);
            // Accepted executions may still be queued: the rate runs until the last one finished.
            double done;
            while (true) {
                done = finished() - before;
                if (done >= h.created() || System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(seconds + 120)) {
                    break;
                }
                Thread.sleep(20);
            }
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long[] cpu1 = cpuTicks();
            double cpuMs = (cpu1[0] - cpu0[0]) * 1000.0 / TICKS / done;
            double childMs = (cpu1[1] - cpu0[1]) * 1000.0 / TICKS / done;
            return new Figure(done / elapsed, h.p50ms(), h.p99ms(), cpuMs, childMs);
        }

        double finished() throws Exception {
            String metrics = client.send(
                            HttpRequest.newBuilder(URI.create(base + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            Matcher m = Pattern.compile(
                            "(?m)^overseer_executions_finished_total\\{job=\"done\",status=\"complete\"} (\\S+)")
                    .matcher(metrics);
            return m.find() ? Double.parseDouble(m.group(1)) : 0;
        }

        /** utime+stime of the server, and cutime+cstime of the children it reaped, in ticks. */
        long[] cpuTicks() throws IOException {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
            return new long[] {
                Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14])
            };
        }

        long rssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            return -1;
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    // ---- hey

    /** A fresh database on a PostgreSQL server for the second Overseer, and its statistics. */
    record Postgres(String host, int port, String user, String database) {
        record Counts(long commits, long rowWrites, long walSyncs) {}

        static Optional<Postgres> create(String url) {
            if (url.equals("none")) {
                return Optional.empty();
            }
            URI uri = URI.create(url);
            String query = Optional.ofNullable(uri.getQuery()).orElse("");
            Matcher user = Pattern.compile("(?:^|&)user=([^&]+)").matcher(query);
            Postgres admin = new Postgres(
                    uri.getHost(),
                    uri.getPort() < 0 ? 5432 : uri.getPort(),
                    user.find() ? user.group(1) : System.getProperty("user.name"),
                    uri.getPath().substring(1));
            Postgres bench = new Postgres(
                    admin.host,
                    admin.port,
                    admin.user,
                    "overseer_bench_" + ProcessHandle.current().pid());
            try (var c = admin.connect();
                    var s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + bench.database);
                s.execute("CREATE DATABASE " + bench.database);
            } catch (java.sql.SQLException e) {
                System.out.println("skipped: Overseer on PostgreSQL (" + url + "): " + e.getMessage());
                return Optional.empty();
            }
            return Optional.of(bench);
        }

        java.sql.Connection connect() throws java.sql.SQLException {
            var p = new java.util.Properties();
            p.setProperty("user", user);
            p.setProperty("connectTimeout", "3");
            return java.sql.DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, p);
        }

        String store() {
            return "postgresql://" + host + ":" + port + "/" + database + "?user=" + user;
        }

        Counts counts() throws java.sql.SQLException {
            try (var c = connect();
                    var s = c.createStatement();
                    var rs = s.executeQuery("SELECT xact_commit, tup_inserted + tup_updated + tup_deleted,"
                            + " (SELECT wal_sync FROM pg_stat_wal)"
                            + " FROM pg_stat_database WHERE datname = current_database()")) {
                rs.next();
                return new Counts(rs.getLong(1), rs.getLong(2), rs.getLong(3));
            }
        }

        String show(String setting) throws java.sql.SQLException {
            try (var c = connect();
                    var s = c.createStatement();
                    var rs = s.executeQuery("SHOW " + setting)) {
                rs.next();
                return rs.getString(1);
            }
        }

        void drop() {
            try (var c = new Postgres(host, port, user, "postgres").connect();
                    var s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (java.sql.SQLException e) {
                System.out.println("could not drop " + database + ": " + e.getMessage());
            }
        }
    }

    record Hey(double seconds, long ok, long created, double p50ms, double p99ms) {}

    static Hey hey(String url, int clients, int seconds) throws Exception {
        Process p = new ProcessBuilder(
                        "hey", "-m", "POST", "-z", seconds + "s", "-c", Integer.toString(clients), "-t", "30", url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return new Hey(
                number(out, "Total:\\s+([\\d.]+) secs"),
                (long) number(out, "\\[200]\\s+(\\d+) responses"),
                (long) number(out, "\\[201]\\s+(\\d+) responses"),
                number(out, "50% in ([\\d.]+) secs") * 1000,
                number(out, "99% in ([\\d.]+) secs") * 1000);
    }

    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    // ---- the report

    static void report(Map<String, List<Figure>> figures) throws IOException {
        Map<String, Figure> median = new LinkedHashMap<>();
        figures.forEach((name, list) -> median.put(name, median(list)));
        System.out.printf("%n== medians of the rounds ==%n");
        System.out.printf(
                "%-24s %12s %10s %10s %10s %12s %12s%n",
                "", "per second", "/ limit", "/ webhook", "p50 ms", "p99 ms", "CPU ms/exec");
        StringBuilder json = new StringBuilder("{\n  \"date\": \"" + LocalDate.now() + "\",\n  \"host\": \"" + host()
                + "\",\n  \"cores\": " + Runtime.getRuntime().availableProcessors() + ",\n  \"cpu\": \""
                + cpuModel().replace("\"", "") + "\",\n  \"figures\": {");
        String sep = "\n";
        for (var e : median.entrySet()) {
            String name = e.getKey();
            Figure f = e.getValue();
            Figure limit = median.get(name.contains("1 ") ? "spawn limit, 1 thread" : "spawn limit, 2 threads");
            Figure peer = median.get(name.contains("8 clients") ? "webhook, 8 clients" : "webhook, 1 client");
            String toLimit =
                    limit == null || name.startsWith("spawn") ? "" : String.format("%.2f", f.rate() / limit.rate());
            String toPeer =
                    peer == null || !name.startsWith("overseer") ? "" : String.format("%.2f", f.rate() / peer.rate());
            System.out.printf(
                    "%-24s %12.1f %10s %10s %10s %12s %12s%n",
                    name, f.rate(), toLimit, toPeer, fmt(f.p50ms()), fmt(f.p99ms()), fmt(f.cpuMs()));
            json.append(sep)
                    .append("    \"")
                    .append(name)
                    .append("\": {\"per_second\": ")
                    .append(jsonNumber(f.rate()))
                    .append(", \"p50_ms\": ")
                    .append(jsonNumber(f.p50ms()))
                    .append(", \"p99_ms\": ")
                    .append(jsonNumber(f.p99ms()))
                    .append(", \"server_cpu_ms_per_execution\": ")
                    .append(jsonNumber(f.cpuMs()))
                    .append(", \"rounds\": [");
            List<Figure> all = figures.get(name);
            for (int i = 0; i < all.size(); i++) {
                json.append(i == 0 ? "" : ", ").append(jsonNumber(all.get(i).rate()));
            }
            json.append("]}");
            sep = ",\n";
        }
        json.append("\n  }\n}\n");
        Path out = Path.of("bench/results", LocalDate.now() + "-" + host() + ".json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, json);
        System.out.printf("written: %s%n", out);
    }

    static Figure median(List<Figure> list) {
        return new Figure(
                median(list, Figure::rate),
                median(list, Figure::p50ms),
                median(list, Figure::p99ms),
                median(list, Figure::cpuMs),
                median(list, Figure::childCpuMs));
    }

    static double median(List<Figure> list, java.util.function.ToDoubleFunction<Figure> field) {
        double[] values = list.stream().mapToDouble(field).sorted().toArray();
        return values.length == 0 ? Double.NaN : values[values.length / 2];
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format("%.2f", v);
    }

    static String jsonNumber(double v) {
        return Double.isNaN(v) ? "null" : String.format(java.util.Locale.ROOT, "%.3f", v);
    }

    // ---- plumbing

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void awaitHttp(String url, String method) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                int status = client.send(
                                HttpRequest.newBuilder(URI.create(url))
                                        .method(method, HttpRequest.BodyPublishers.noBody())
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                if (status == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Still starting.
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(url + " did not answer 200 within 60 s");
    }

    static String host() {
        try {
            return Files.readString(Path.of("/etc/hostname")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // Not Linux: no model.
        }
        return "unknown CPU";
    }

    static void deleteTree(Path dir) throws IOException {
        try (var tree = Files.walk(dir)) {
            for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
