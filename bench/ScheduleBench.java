// Benchmark of the scheduler. Run with bench/run schedules [PER_SECOND] [PER_MINUTE] [SECONDS].
//
// Jobs have no command, so executions complete without a process: what is measured is the
// scheduler and the store.
// 1. idle: 10,000 schedules whose next fires are all at least an hour away; the JVM's CPU time
//    over 30 s (the server runs in this JVM; the benchmark itself sleeps meanwhile).
// 2. load: PER_SECOND schedules firing every second and PER_MINUTE firing every minute (default
//    1,000 and 10,000) for SECONDS (default 70, so one minute boundary is in it); the delay from
//    each fire's due time to its execution's creation (created_at - scheduled_at), p50/p99/max,
//    and how many fires were due against how many were recorded.

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import overseer.Overseer;
import overseer.event.RetrySchedule;

public class ScheduleBench {
    public static void main(String[] args) throws Exception {
        int perSecond = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int perMinute = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 70;
        Path tmp = Files.createTempDirectory("overseer-bench-sched");
        try {
            idle(tmp.resolve("idle"));
            load(tmp.resolve("load"), perSecond, perMinute, seconds);
        } finally {
            ExecutionBench.deleteTree(tmp);
        }
        System.exit(0);
    }

    static Overseer start(Path dir) throws Exception {
        return Overseer.start(
                BenchRepos.options(dir.resolve("repo"), dir.resolve("data"), RetrySchedule.DEFAULT, Map.of()));
    }

    /** {@code count} copies of one schedule entry, in job files of at most 100 schedules. */
    static void repo(Path dir, String prefix, int count, String entry) throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        for (int j = 0; j * 100 < count; j++) {
            StringBuilder file = new StringBuilder("description: no command\nschedule:\n");
            for (int i = j * 100; i < Math.min(count, (j + 1) * 100); i++) {
                file.append("  - ").append(entry).append('\n');
            }
            Files.writeString(repo.resolve(prefix + j + ".yml"), file);
        }
    }

    static void idle(Path dir) throws Exception {
        // Yearly, on 1 January: hours away whenever this runs (except in the last hour of a year).
        repo(dir, "yearly", 10_000, "{frequency: \"0 0 1 1 *\"}");
        BenchRepos.commitAll(dir.resolve("repo"));
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (Overseer server = start(dir)) {
            Thread.sleep(5000);
            System.gc();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            Thread.sleep(30_000);
            double cpu = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - t0);
            System.out.printf(
                    "%n== idle: 10,000 schedules, next fires at least an hour away, 30 s ==%n"
                            + "CPU: %.2f%% of one core (the whole JVM)%n",
                    100 * cpu);
        }
    }

    static void load(Path dir, int perSecond, int perMinute, int seconds) throws Exception {
        repo(dir, "second", perSecond, "{frequency: 1}");
        repo(dir, "minute", perMinute, "{frequency: \"* * * * *\"}");
        BenchRepos.commitAll(dir.resolve("repo"));
        long start;
        try (Overseer server = start(dir)) {
            start = System.currentTimeMillis();
            Thread.sleep(seconds * 1000L);
        }
        long end = start + seconds * 1000L;
        List<Long> delays = new ArrayList<>();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data/overseer.db"));
                var s = c.createStatement();
                var rs = s.executeQuery("SELECT created_at - scheduled_at FROM executions"
                        + " WHERE trigger_kind = 'schedule' AND scheduled_at <= " + end)) {
            while (rs.next()) {
                delays.add(rs.getLong(1));
            }
        }
        Collections.sort(delays);
        long due = (long) perSecond * seconds + (long) perMinute * (seconds / 60 + 1);
        System.out.printf(
                "%n== load: %d schedules every second and %d every minute, %d s ==%n"
                        + "fires recorded: %d (about %d were due)%n"
                        + "due time to creation: p50 %d ms, p99 %d ms, max %d ms%n",
                perSecond,
                perMinute,
                seconds,
                delays.size(),
                due,
                pct(delays, 50),
                pct(delays, 99),
                delays.isEmpty() ? 0 : delays.getLast());
    }

    static long pct(List<Long> sorted, int p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
    }
}
