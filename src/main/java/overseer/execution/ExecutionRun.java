package overseer.execution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.SyncException;
import overseer.store.Event;
import overseer.store.Store;

/**
 * One execution from start to end: waits for its checkout, starts the process, captures its
 * output, enforces the timeout, and records {@code start} and then exactly one of
 * {@code complete}, {@code fail} or {@code time-out}.
 */
final class ExecutionRun {
    private static final Logger log = LoggerFactory.getLogger(ExecutionRun.class);
    /** How long output may keep arriving after the process group is gone (from escaped processes). */
    private static final Duration DRAIN = Duration.ofSeconds(1);

    private final Active a;
    private final Store store;
    private final Launcher launcher;
    private final ProcessGroups groups;
    private final Executions.Settings settings;
    private final Clock clock;

    ExecutionRun(
            Active a, Store store, Launcher launcher, ProcessGroups groups, Executions.Settings settings, Clock clock) {
        this.a = a;
        this.store = store;
        this.launcher = launcher;
        this.groups = groups;
        this.settings = settings;
        this.clock = clock;
    }

    static Path directory(Path dataDir, String job, long number) {
        return dataDir.resolve("executions").resolve(job).resolve(Long.toString(number));
    }

    void run() {
        Path dir = directory(settings.dataDir(), a.job(), a.number());
        Path checkout;
        try {
            Files.createDirectories(dir);
            for (String name : List.of("stdout", "stderr", OutputIndex.FILE)) {
                if (!Files.exists(dir.resolve(name))) {
                    Files.createFile(dir.resolve(name));
                }
            }
            checkout = a.lease().checkout().await();
        } catch (IOException | SyncException e) {
            failToStart("cannot prepare: " + e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failToStart("interrupted before it started");
            return;
        }
        LaunchSpec spec = a.spec();
        if (spec.runsNothing()) {
            store.started(a.job(), a.number(), 0, event("start", null));
            a.pid().complete(0L);
            store.finished(a.job(), a.number(), OptionalInt.of(0), event("complete", "nothing to run"));
            return;
        }
        List<String> argv = new ArrayList<>(spec.argv());
        if (!argv.getFirst().startsWith("/")) {
            argv.set(0, checkout.resolve(argv.getFirst()).toString());
        }
        Launcher.Process process;
        try {
            process = launcher.start(new Launcher.Command(argv, environment(checkout), checkout));
        } catch (IOException e) {
            failToStart(e.getMessage());
            return;
        }
        long pgid = process.pid();
        try {
            store.started(a.job(), a.number(), pgid, event("start", null));
        } catch (RuntimeException e) {
            groups.killAll(pgid, a.runId());
            a.pid().complete(0L);
            throw e;
        }
        a.pid().complete(pgid);
        try {
            OutputCapture capture =
                    OutputCapture.start(dir, process.stdout(), process.stderr(), spec.masked(), "execution-" + a.key());
            Ending ending = await(process, pgid);
            // Whatever the job left behind in its group goes with it.
            groups.signal(pgid, ProcessGroups.SIGKILL);
            if (!capture.awaitEnd(DRAIN)) {
                // Escaped processes still hold the output open: they go too.
                int killed = groups.killAll(pgid, a.runId());
                log.info("execution: {} left {} process(es) outside its group; killed them", a.key(), killed);
                if (!capture.awaitEnd(Duration.ofSeconds(5))) {
                    log.warn("execution: {} output is still held open by a process that hid its marker", a.key());
                }
            }
            store.finished(a.job(), a.number(), ending.exitCode(), ending.event());
        } catch (IOException e) {
            groups.killAll(pgid, a.runId());
            store.finished(
                    a.job(),
                    a.number(),
                    OptionalInt.empty(),
                    event("fail", "cannot capture output: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            groups.killAll(pgid, a.runId());
            store.finished(a.job(), a.number(), OptionalInt.empty(), event("fail", "interrupted"));
        }
    }

    private record Ending(OptionalInt exitCode, Event event) {}

    private Ending await(Launcher.Process process, long pgid) throws InterruptedException {
        Long timeout = a.spec().timeoutMillis();
        ExitStatus status;
        if (timeout == null) {
            status = get(process, null);
        } else {
            status = get(process, Duration.ofMillis(timeout));
            if (status == null) {
                String cause = "timed out after " + seconds(timeout) + "; sent SIGTERM";
                groups.signalAll(pgid, a.runId(), ProcessGroups.SIGTERM);
                groups.signalAll(pgid, a.runId(), ProcessGroups.SIGCONT);
                status = get(process, settings.killGrace());
                if (status == null) {
                    cause += ", then SIGKILL after "
                            + seconds(settings.killGrace().toMillis());
                    groups.killAll(pgid, a.runId());
                    status = get(process, null);
                }
                groups.killAll(pgid, a.runId());
                return new Ending(exitCode(status), event("time-out", cause));
            }
        }
        return switch (status) {
            case ExitStatus.Exited(int code) when code == 0 -> new Ending(OptionalInt.of(0), event("complete", null));
            case ExitStatus.Exited(int code) -> new Ending(OptionalInt.of(code), event("fail", status.describe()));
            case ExitStatus.Signaled s -> new Ending(OptionalInt.empty(), event("fail", status.describe()));
        };
    }

    private static OptionalInt exitCode(ExitStatus status) {
        return status instanceof ExitStatus.Exited(int code) ? OptionalInt.of(code) : OptionalInt.empty();
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis / 1000.0 + " s";
    }

    /** The exit status, or null when {@code limit} passed first. */
    private static ExitStatus get(Launcher.Process process, Duration limit) throws InterruptedException {
        try {
            return limit == null ? process.exit().get() : process.exit().get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void failToStart(String cause) {
        a.pid().complete(0L);
        store.started(a.job(), a.number(), 0, event("start", null));
        store.finished(a.job(), a.number(), OptionalInt.empty(), event("fail", cause));
    }

    /**
     * SPEC section 3: the server's environment without Overseer's own settings and secrets, then
     * the job's env and vars, then the execution's identity, and PATH with our tools first.
     */
    private List<String> environment(Path checkout) {
        Map<String, String> env = new TreeMap<>();
        System.getenv().forEach((k, v) -> {
            if (!k.startsWith("OVERSEER_") && !a.spec().hiddenEnv().contains(k)) {
                env.put(k, v);
            }
        });
        env.putAll(a.spec().env());
        env.put("OVERSEER_URL", settings.publicUrl().get());
        env.put("OVERSEER_JOB", a.job());
        env.put("OVERSEER_EXECUTION", Long.toString(a.number()));
        env.put("OVERSEER_COMMIT", a.execution().commit());
        env.put("OVERSEER_TOKEN", a.token());
        env.put(ProcessGroups.MARKER, a.runId());
        a.execution().scheduledAt().ifPresent(t -> env.put("OVERSEER_SCHEDULED_AT", t.toString()));
        String serverPath = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("PATH", settings.libraryDir() + ":" + checkout.resolve("bin") + ":" + serverPath);
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private Event event(String name, String cause) {
        return Event.of(name, cause, clock.instant(), "overseer");
    }
}
