package overseer.execution;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.SyncException;
import overseer.output.OutputCapture;
import overseer.process.ExitStatus;
import overseer.process.Launcher;
import overseer.process.ProcessGroups;
import overseer.process.Supervision;
import overseer.store.Event;

/**
 * One execution from STARTING to DONE: waits for its checkout, starts the process, captures its
 * output, enforces the timeout, makes sure nothing of it is left, and records {@code start} and then
 * exactly one of {@code complete}, {@code fail} or {@code time-out}, all through the {@link Lifecycle}.
 */
final class ExecutionRun {
    private static final Logger log = LoggerFactory.getLogger(ExecutionRun.class);
    /** How long output may keep arriving after the process group is gone (from escaped processes). */
    private static final Duration DRAIN = Duration.ofSeconds(1);

    private final Unfinished u;
    private final Lifecycle lifecycle;
    private final Launcher launcher;
    private final ProcessGroups groups;
    private final Executions.Settings settings;
    private final Clock clock;
    private final BooleanSupplier shuttingDown;
    private final BooleanSupplier fenced;
    private final java.util.function.BiConsumer<Unfinished, Event> ending;

    ExecutionRun(
            Unfinished u,
            Lifecycle lifecycle,
            Launcher launcher,
            ProcessGroups groups,
            Executions.Settings settings,
            Clock clock,
            BooleanSupplier shuttingDown,
            BooleanSupplier fenced,
            java.util.function.BiConsumer<Unfinished, Event> ending) {
        this.u = u;
        this.lifecycle = lifecycle;
        this.launcher = launcher;
        this.groups = groups;
        this.settings = settings;
        this.clock = clock;
        this.shuttingDown = shuttingDown;
        this.fenced = fenced;
        this.ending = ending;
    }

    static Path directory(Path dataDir, String job, long number) {
        return dataDir.resolve("executions").resolve(job).resolve(Long.toString(number));
    }

    /** Whether a run ended its execution, or left it queued to be started again later. */
    enum Ran {
        ENDED,
        /** Still QUEUED: its start could not be recorded (the store is away); nothing was spawned. */
        DEFERRED
    }

    Ran run() {
        switch (lifecycle.starting(u)) {
            case LEFT_QUEUE -> {
                return Ran.ENDED;
            }
            case NOT_RECORDED -> {
                return Ran.DEFERRED;
            }
            case STARTING -> {}
        }
        runStarting();
        return Ran.ENDED;
    }

    private void runStarting() {
        Path dir = directory(settings.dataDir(), u.job(), u.number());
        Path checkout;
        try {
            OutputCapture.prepare(dir);
            checkout = u.lease().checkout().await();
        } catch (IOException | SyncException e) {
            lifecycle.notStarted(u, "cannot prepare: " + e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lifecycle.notStarted(u, "interrupted before it started");
            return;
        }
        LaunchSpec spec = u.spec();
        if (spec.runsNothing()) {
            lifecycle.nothingToRun(u);
            return;
        }
        List<String> argv = new ArrayList<>(spec.argv());
        if (!argv.getFirst().startsWith("/")) {
            argv.set(0, checkout.resolve(argv.getFirst()).toString());
        }
        ServerSecrets.Resolved secrets;
        try {
            secrets = ServerSecrets.resolve(spec.env(), System.getenv());
        } catch (IllegalStateException e) {
            lifecycle.notStarted(u, e.getMessage());
            return;
        }
        if (settings.jobUser().isPresent()) {
            argv = settings.jobUser().get().wrap(argv);
        }
        if (!awaitLease()) {
            log.warn("execution: {} not started: this node registered anew while it was fenced", u.key());
            return;
        }
        // Made before the spawn and outside the execution's lock: it is disk I/O.
        Optional<overseer.process.Cgroups.Cgroup> cgroup = groups.contain(u.runId(), cgroupName());
        Launcher.Command command =
                new Launcher.Command(argv, environment(checkout, secrets.env()), checkout, cgroup, spec.merged());
        Launcher.Process process = null;
        try {
            process = switch (lifecycle.spawn(u, () -> launcher.start(command))) {
                case Lifecycle.Spawn.Running r -> r.process();
                case Lifecycle.Spawn.NotStarted n -> null;
            };
        } finally {
            if (process == null) {
                groups.endAll(0, u.runId());
            }
        }
        if (process == null) {
            return;
        }
        Ending end = supervise(process, dir, secrets.masked());
        ending.accept(u, end.event());
        lifecycle.finish(u, end.exitCode(), end.event(), shuttingDown);
    }

    /**
     * A start that was on its way when the node fenced itself waits for the lease: spawned now,
     * its process would be killed at once and its start refused. True once the node holds its
     * lease again; false when it gave it up (registered anew, or stopping): the row is then the
     * old lease's, for the node that ends its work.
     */
    private boolean awaitLease() {
        while (fenced.getAsBoolean()) {
            if (shuttingDown.getAsBoolean()) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !shuttingDown.getAsBoolean();
    }

    /** {@code <job>-<n>-<run>}: unique even among servers that share a cgroup (tests, two data directories). */
    private String cgroupName() {
        String run = u.runId().replaceAll("[^A-Za-z0-9]", "");
        return u.job() + "-" + u.number() + "-" + run.substring(0, Math.min(8, run.length()));
    }

    private record Ending(OptionalInt exitCode, Event event) {
        /**
         * The same end for a run whose output was partly lost (a full disk): never {@code
         * complete}, since what it printed is not all there, and the cause says why either way.
         */
        Ending outputLost(String why) {
            Event e = event.name().equals("complete")
                    ? new Event("fail", Optional.of(why), event.at(), event.source())
                    : new Event(
                            event.name(),
                            Optional.of(event.cause().map(c -> c + "; ").orElse("") + why),
                            event.at(),
                            event.source());
            return new Ending(exitCode, e);
        }
    }

    private Ending supervise(Launcher.Process process, Path dir, List<String> serverSecrets) {
        List<String> masked = new ArrayList<>(u.spec().masked());
        masked.addAll(serverSecrets);
        long pgid = process.pid();
        OutputCapture capture = OutputCapture.start(
                dir,
                process.stdout(),
                process.stderr(),
                masked,
                new OutputCapture.Quota(settings.maxOutputBytes(), () -> outputExceeded(process)),
                "execution-" + u.key());
        Supervision.Outcome outcome;
        try {
            outcome = new Supervision(groups)
                    .await(
                            process,
                            u.runId(),
                            Optional.ofNullable(u.spec().timeoutMillis()).map(Duration::ofMillis),
                            settings.killGrace());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            groups.endAll(pgid, u.runId());
            lifecycle.ending(u);
            return new Ending(OptionalInt.empty(), event("fail", "interrupted"));
        }
        lifecycle.ending(u);
        // The reaper killed what was left in the group as it reaped the leader. Whatever else of
        // the run is alive goes now, however it ended: marked processes in other sessions and
        // groups, and the run's cgroup, which holds even those that hid their marker.
        int killed = groups.endAll(pgid, u.runId());
        if (killed > 0) {
            log.info("execution: {} left {} process(es) outside its group; killed them", u.key(), killed);
        }
        try {
            if (!capture.awaitEnd(DRAIN)) {
                // Without a cgroup, a process that hid its marker is found by the output it holds.
                killed = groups.killHolders(process.pipes());
                log.info("execution: {} left {} process(es) holding its output; killed them", u.key(), killed);
                if (!capture.awaitEnd(Duration.ofSeconds(5))) {
                    log.warn("execution: {} output is still held open after killing its holders", u.key());
                }
            }
            capture.sync();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Ending end = ending(outcome);
        return capture.failure().map(end::outputLost).orElse(end);
    }

    private Ending ending(Supervision.Outcome outcome) {
        ExitStatus status = outcome.status();
        if (outcome.timeout().isPresent()) {
            return new Ending(
                    exitCode(status), event("time-out", outcome.timeout().get()));
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

    private List<String> environment(Path checkout, java.util.Map<String, String> jobEnv) {
        JobEnvironment env = new JobEnvironment(System.getenv(), u.spec().hiddenEnv())
                .putAll(jobEnv)
                .put("OVERSEER_URL", settings.publicUrl().get())
                .put("OVERSEER_JOB", u.job())
                .put("OVERSEER_EXECUTION", Long.toString(u.number()))
                .put("OVERSEER_COMMIT", u.execution().commit())
                .put("OVERSEER_TOKEN", u.token())
                .put("OVERSEER_EVENTS", settings.eventPipe().toString())
                .put(ProcessGroups.MARKER, u.runId())
                // The node's watchdog kills by it, when this server can no longer.
                .put(overseer.process.Watchdog.VARIABLE, settings.nodeMark())
                .path(List.of(settings.libraryDir(), checkout.resolve("bin")));
        u.execution().scheduledAt().ifPresent(t -> env.put("OVERSEER_SCHEDULED_AT", t.toString()));
        settings.jobUser()
                .ifPresent(user ->
                        env.put("HOME", user.home()).put("USER", user.name()).put("LOGNAME", user.name()));
        return env.entries();
    }

    /**
     * Past {@code --max-output}: the job is terminated, saying why, and killed if it is still
     * there after the kill grace, as a time-out is: a job that traps TERM must not run on. Called
     * on the output pump, which must go on draining, so the grace is waited for elsewhere.
     */
    private void outputExceeded(Launcher.Process process) {
        String quota = "its output passed --max-output (" + settings.maxOutputBytes() + " bytes)";
        String cause = quota + "; the rest is dropped";
        log.warn("execution: {} terminated: {}", u.key(), cause);
        if (!quotaSignal(process, "terminate", cause)) {
            return;
        }
        Duration grace = settings.killGrace();
        Thread.ofVirtual().name("execution-" + u.key() + "-quota").start(() -> {
            try {
                process.exit().get(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException stillThere) {
                String killed = quota + " and it did not end within " + Supervision.seconds(grace) + " of SIGTERM";
                log.warn("execution: {} killed: {}", u.key(), killed);
                if (!quotaSignal(process, "kill", killed)) {
                    return;
                }
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                // No exit to wait for: the run's own wait for it deals with that.
            }
        });
    }

    /**
     * Gives the run {@code signal} for its output quota; false when it ended meanwhile. A kill the
     * store cannot record (a full disk) is sent all the same: the quota does not wait for the disk,
     * and the end records how the job died. An unrecorded terminate is left to the kill after it.
     */
    private boolean quotaSignal(Launcher.Process process, String signal, String cause) {
        try {
            lifecycle.signal(u, signal, Optional.of(cause), "overseer");
        } catch (Refused ended) {
            return false;
        } catch (overseer.store.StoreException e) {
            log.error("execution: {} '{}' for its output quota not recorded: {}", u.key(), signal, e.getMessage());
            if (signal.equals("kill")) {
                groups.killAll(process.pid(), u.runId());
            }
        }
        return true;
    }

    private Event event(String name, String cause) {
        return Event.of(name, cause, clock.instant(), "overseer");
    }
}
