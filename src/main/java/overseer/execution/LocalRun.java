package overseer.execution;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import overseer.event.EventNames;
import overseer.event.EventPipe;
import overseer.event.LibraryScripts;
import overseer.job.JobDefinition;
import overseer.job.VarSpec;
import overseer.metrics.Metrics;
import overseer.output.SecretMask;
import overseer.process.ExitStatus;
import overseer.process.Launcher;
import overseer.process.ProcessGroups;
import overseer.process.Supervision;
import overseer.service.Supervisor;
import overseer.template.RenderException;
import overseer.template.Rendered;
import overseer.template.Renderer;

/**
 * {@code overseer run}: one execution of a job from a local directory, with the same parameter
 * checks and rendering as the server, its output going to the terminal and nothing recorded.
 */
public final class LocalRun {
    /** What {@code timeout(1)} exits with, so scripts can tell a time-out from a failure. */
    public static final int TIMED_OUT = 124;

    private final Launcher launcher;
    private final Renderer renderer;
    private final Params params;
    private final ProcessGroups groups = new ProcessGroups();

    public LocalRun(Launcher launcher, Renderer renderer, Params params) {
        this.launcher = launcher;
        this.renderer = renderer;
        this.params = params;
    }

    /** Runs the job to its end; returns its exit code (128 + signal when a signal ended it). */
    public int run(JobDefinition job, Map<String, List<String>> given, Path repo, OutputStream out, OutputStream err)
            throws InvalidParams, RenderException, IOException, InterruptedException {
        Map<String, Object> values = params.fromStrings(job.vars(), given);
        Rendered rendered = renderer.render(
                job.action(),
                job.vars(),
                values,
                new Renderer.Builtins(job.name().value(), 0, "local"),
                "scripts");
        if (rendered.argv().isEmpty()) {
            return 0;
        }
        List<String> argv = new ArrayList<>(rendered.argv());
        if (!argv.getFirst().startsWith("/")) {
            argv.set(0, repo.resolve(argv.getFirst()).toString());
        }
        String runId = UUID.randomUUID().toString();
        Path runtime = Files.createTempDirectory("overseer-run-");
        Path library = runtime.resolve("lib");
        LibraryScripts.install(library);
        Supervisor services = new Supervisor(Supervisor.Settings.DEFAULT, Metrics.none());
        try (EventPipe events = EventPipe.start(
                runtime.resolve("events"), r -> showEvent(r, runId, err), EventPipe.serverUid(), services)) {
            ServerSecrets.Resolved server;
            try {
                server = ServerSecrets.resolve(job.env(), System.getenv());
            } catch (IllegalStateException e) {
                throw new IOException(e.getMessage());
            }
            Map<String, String> vars = new TreeMap<>(server.env());
            vars.putAll(LaunchPreparation.varEnvironment(renderer, values));
            List<String> env = new JobEnvironment(System.getenv(), List.of())
                    .putAll(vars)
                    .put("OVERSEER_JOB", job.name().value())
                    .put("OVERSEER_EXECUTION", "0")
                    .put("OVERSEER_COMMIT", "local")
                    .put("OVERSEER_TOKEN", runId)
                    .put("OVERSEER_EVENTS", events.path().toString())
                    .put(ProcessGroups.MARKER, runId)
                    .path(List.of(library, repo.resolve("bin")))
                    .entries();
            return runProcess(job, values, server.masked(), argv, env, runId, repo, out, err);
        } finally {
            // The library, left read-only by its installer, the event pipe and all else made here.
            overseer.FileTrees.delete(runtime);
        }
    }

    /** Events from a local run go to the terminal, checked as the server checks them. */
    private static Optional<String> showEvent(EventPipe.Request r, String token, OutputStream err) {
        if (!r.token().equals(token)) {
            return Optional.of("OVERSEER_TOKEN is not the token of this run");
        }
        EventNames.check(r.name());
        String line = "event: " + r.name() + r.cause().map(c -> ": " + c).orElse("") + "\n";
        try {
            synchronized (err) {
                err.write(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                err.flush();
            }
        } catch (IOException e) {
            // The terminal went away; the event is still taken.
        }
        return Optional.empty();
    }

    private int runProcess(
            JobDefinition job,
            Map<String, Object> values,
            List<String> serverSecrets,
            List<String> argv,
            List<String> env,
            String runId,
            Path repo,
            OutputStream out,
            OutputStream err)
            throws IOException, InterruptedException {
        Launcher.Process process = launcher.start(
                new Launcher.Command(argv, env, repo, Optional.empty(), job.streams() == overseer.job.Streams.MERGED));
        // The job has its own session, so a Ctrl-C reaches only us: pass it on.
        Thread forward = new Thread(() -> groups.signalAll(process.pid(), runId, ProcessGroups.SIGTERM));
        Runtime.getRuntime().addShutdownHook(forward);
        List<String> secrets = new ArrayList<>(serverSecrets);
        for (VarSpec v : job.vars()) {
            if (v.secret() && values.get(v.name()) != null) {
                secrets.addAll(renderer.secretTexts(values.get(v.name())));
            }
        }
        Thread a = pump(process.stdout(), out, secrets);
        Thread b = pump(process.stderr(), err, secrets);
        Supervision.Outcome outcome =
                new Supervision(groups).await(process, runId, job.timeout(), Duration.ofSeconds(10));
        boolean timedOut = outcome.timeout().isPresent();
        ExitStatus status = outcome.status();
        groups.signal(process.pid(), ProcessGroups.SIGKILL);
        a.join();
        b.join();
        Runtime.getRuntime().removeShutdownHook(forward);
        // Why it ended, when the exit code alone would not say: a time-out, or a signal.
        String why = timedOut
                ? "overseer run: " + outcome.timeout().get() + "\n"
                : status instanceof ExitStatus.Signaled ? "overseer run: the job " + status.describe() + "\n" : "";
        if (!why.isEmpty()) {
            synchronized (err) {
                err.write(why.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                err.flush();
            }
        }
        return switch (status) {
            case ExitStatus.Exited(int code) -> timedOut ? TIMED_OUT : code;
            case ExitStatus.Signaled(int signal) -> timedOut ? TIMED_OUT : 128 + signal;
        };
    }

    private static Thread pump(InputStream in, OutputStream to, List<String> secrets) {
        return Thread.ofPlatform().daemon().start(() -> {
            SecretMask mask = new SecretMask(secrets);
            byte[] buffer = new byte[16 * 1024];
            try (in) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    byte[] masked = mask.apply(buffer, n);
                    synchronized (to) {
                        to.write(masked);
                        to.flush();
                    }
                }
                synchronized (to) {
                    to.write(mask.finish());
                    to.flush();
                }
            } catch (IOException e) {
                // The terminal went away; the job's end is still waited for.
            }
        });
    }
}
