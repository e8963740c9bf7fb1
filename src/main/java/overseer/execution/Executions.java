package overseer.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.CheckoutLease;
import overseer.config.ConfigSync;
import overseer.config.Snapshot;
import overseer.job.HookSpec;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.Overlap;
import overseer.job.VarSpec;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.NewExecution;
import overseer.store.Store;
import overseer.template.RenderException;
import overseer.template.Rendered;
import overseer.template.Renderer;

/**
 * Triggers, queues, starts and signals executions. Triggered executions are stored as
 * {@code queued}, then started by priority and age while fewer than {@code maxConcurrent} run and
 * their job is under its {@code concurrency}. Each running execution has one virtual thread that
 * waits for it ({@link ExecutionRun}).
 */
public final class Executions {
    private static final Logger log = LoggerFactory.getLogger(Executions.class);
    private static final Pattern EVENT_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    private static final Set<String> RESERVED_EVENTS = Set.of(
            "stdout",
            "stderr",
            "output",
            "executions",
            "events",
            "queued",
            "start",
            "complete",
            "fail",
            "time-out",
            "lost",
            "skipped");
    private static final Map<String, Integer> SIGNALS = Map.of(
            "stop", ProcessGroups.SIGSTOP,
            "continue", ProcessGroups.SIGCONT,
            "terminate", ProcessGroups.SIGTERM,
            "kill", ProcessGroups.SIGKILL);

    public record Settings(
            Path dataDir,
            int maxConcurrent,
            int maxQueued,
            Duration killGrace,
            java.util.function.Supplier<String> publicUrl,
            Path libraryDir) {}

    /** Trigger input: a JSON object (typed) or form/query strings (coerced). */
    public sealed interface Input {
        record Json(Map<String, Object> values) implements Input {}

        record Strings(Map<String, List<String>> values) implements Input {}
    }

    public record Trigger(
            String job,
            Input input,
            String kind,
            Optional<String> idempotencyKey,
            int priority,
            Optional<Instant> scheduledAt) {}

    private final Settings settings;
    private final Store store;
    private final ConfigSync config;
    private final Launcher launcher;
    private final Renderer renderer;
    private final Params params;
    private final ObjectMapper json;
    private final Clock clock;
    private final ProcessGroups groups = new ProcessGroups();
    private final SecureRandom random = new SecureRandom();

    private final ReentrantLock lock = new ReentrantLock();
    private final TreeSet<Active> queue = new TreeSet<>(Comparator.comparingInt((Active a) -> -a.priority())
            .thenComparing(Active::createdAt)
            .thenComparing(Active::job)
            .thenComparingLong(Active::number));
    private final Map<String, Active> running = new LinkedHashMap<>();
    private final Map<String, Integer> perJob = new HashMap<>();
    /** Every execution that is queued or running, by "job/number". */
    private final Map<String, Active> unfinished = new ConcurrentHashMap<>();

    private final Set<String> disabled = ConcurrentHashMap.newKeySet();
    private volatile boolean accepting = true;

    public Executions(
            Settings settings,
            Store store,
            ConfigSync config,
            Launcher launcher,
            Renderer renderer,
            Params params,
            ObjectMapper json,
            Clock clock) {
        this.settings = settings;
        this.store = store;
        this.config = config;
        this.launcher = launcher;
        this.renderer = renderer;
        this.params = params;
        this.json = json;
        this.clock = clock;
    }

    public Store store() {
        return store;
    }

    /**
     * Makes the store's state true again after a restart: executions that were running are
     * {@code lost} (their leftover processes killed), queued ones wait again. Then starts what fits.
     */
    public void recover() {
        disabled.addAll(store.disabledJobs());
        for (Execution e : store.unfinished()) {
            if (e.startedAt().isPresent()) {
                int killed = groups.killMarked(e.runId());
                String cause = "the server stopped while it ran"
                        + (killed > 0 ? "; killed " + killed + " leftover process(es)" : "");
                store.finished(e.job(), e.number(), OptionalInt.empty(), Event.of("lost", cause, now(), "overseer"));
                log.warn("execution: {}/{} lost: {}", e.job(), e.number(), cause);
                continue;
            }
            try {
                LaunchSpec spec = json.readValue(e.launchJson(), LaunchSpec.class);
                Active a = new Active(e, spec, config.hold(e.commit()), token());
                lock.lock();
                try {
                    queue.add(a);
                    unfinished.put(a.key(), a);
                } finally {
                    lock.unlock();
                }
            } catch (JsonProcessingException ex) {
                store.finished(
                        e.job(),
                        e.number(),
                        OptionalInt.empty(),
                        Event.of(
                                "fail",
                                "cannot read its stored launch spec: " + ex.getOriginalMessage(),
                                now(),
                                "overseer"));
            }
        }
        dispatch();
    }

    /** A job of the active configuration, or one that has executions on record. */
    public boolean known(String job) {
        boolean configured = JobName.isValid(job)
                && config.active().flatMap(s -> s.job(new JobName(job))).isPresent();
        return configured
                || !store.executions(
                                job,
                                new overseer.store.ExecutionQuery(java.util.OptionalLong.empty(), Optional.empty(), 1))
                        .isEmpty();
    }

    public boolean enabled(String job) {
        return !disabled.contains(job);
    }

    public void setEnabled(String job, boolean enabled) throws Refused {
        if (!known(job)) {
            throw new Refused(Refused.Reason.UNKNOWN_JOB, "no job named '" + job + "'");
        }
        store.setEnabled(job, enabled, now());
        if (enabled) {
            disabled.remove(job);
        } else {
            disabled.add(job);
        }
    }

    public Store.Created trigger(Trigger t) throws Refused, InvalidParams {
        Snapshot snapshot = config.active()
                .orElseThrow(() -> new Refused(Refused.Reason.NO_CONFIGURATION, "no configuration is active yet"));
        JobDefinition job = (JobName.isValid(t.job())
                        ? snapshot.job(new JobName(t.job()))
                        : Optional.<JobDefinition>empty())
                .orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_JOB, "no job named '" + t.job() + "'"));
        Map<String, Object> values = switch (t.input()) {
            case Input.Json j -> params.fromJson(job.vars(), j.values());
            case Input.Strings s -> params.fromStrings(job.vars(), s.values());
        };
        return create(t, snapshot, job, values);
    }

    /** A new execution of {@code job} with the params of execution {@code number}. */
    public Store.Created repeat(String job, long number, Optional<String> idempotencyKey)
            throws Refused, InvalidParams {
        Execution e = execution(job, number);
        Map<String, Object> values;
        try {
            values = new LinkedHashMap<>(json.readValue(e.paramsJson(), MAP));
            values.putAll(json.readValue(e.secretsJson(), MAP));
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stored params of " + job + "/" + number + " are unreadable", ex);
        }
        return trigger(
                new Trigger(job, new Input.Json(values), "repeat", idempotencyKey, e.priority(), Optional.empty()));
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>> MAP =
            new com.fasterxml.jackson.core.type.TypeReference<>() {};

    private Store.Created create(Trigger t, Snapshot snapshot, JobDefinition job, Map<String, Object> values)
            throws Refused {
        if (!accepting) {
            throw new Refused(Refused.Reason.SHUTTING_DOWN, "the server is shutting down");
        }
        if (disabled.contains(t.job())) {
            throw new Refused(Refused.Reason.DISABLED, "job '" + t.job() + "' is disabled");
        }
        String commit = snapshot.revision();
        lock.lock();
        try {
            if (queue.size() >= settings.maxQueued()) {
                throw new Refused(
                        Refused.Reason.QUEUE_FULL, "the queue holds " + queue.size() + " executions; try again later");
            }
            if (job.concurrency().isPresent()
                    && job.overlap() == Overlap.SKIP
                    && t.idempotencyKey().isEmpty()
                    && occupied(t.job()) >= job.concurrency().getAsInt()) {
                throw new Refused(
                        Refused.Reason.CONCURRENCY_REACHED,
                        "job '" + t.job() + "' already runs "
                                + job.concurrency().getAsInt() + " execution(s) and its overlap policy is skip");
            }
        } finally {
            lock.unlock();
        }
        Map<String, Object> shown = new LinkedHashMap<>(values);
        Map<String, Object> secrets = new LinkedHashMap<>();
        List<String> masked = new ArrayList<>();
        for (VarSpec v : job.vars()) {
            if (v.secret() && values.containsKey(v.name())) {
                shown.put(v.name(), "***");
                secrets.put(v.name(), values.get(v.name()));
                if (values.get(v.name()) != null) {
                    masked.addAll(renderer.secretTexts(values.get(v.name())));
                }
            }
        }
        Map<String, String> env = new LinkedHashMap<>(job.env());
        values.forEach((name, value) -> {
            if (value != null) {
                env.put("OVERSEER_VAR_" + name, renderer.text(value));
            }
        });
        List<String> hidden = new ArrayList<>();
        for (HookSpec h : snapshot.settings().hooks()) {
            h.secretVariable().ifPresent(hidden::add);
        }
        for (HookSpec h : job.hooks()) {
            h.secretVariable().ifPresent(hidden::add);
        }
        CheckoutLease lease = config.hold(commit);
        // Rendered inside the store's transaction, which assigns the number the template may use.
        java.util.concurrent.atomic.AtomicReference<LaunchSpec> built =
                new java.util.concurrent.atomic.AtomicReference<>();
        Store.Created created;
        try {
            created = store.create(
                    new NewExecution(
                            t.job(),
                            t.kind(),
                            commit,
                            now(),
                            write(shown),
                            write(secrets),
                            t.priority(),
                            t.scheduledAt(),
                            UUID.randomUUID().toString(),
                            t.idempotencyKey(),
                            number -> {
                                Rendered r = render(job, values, t.job(), number, commit);
                                LaunchSpec spec = new LaunchSpec(
                                        r.argv(),
                                        env,
                                        job.timeout().map(Duration::toMillis).orElse(null),
                                        job.concurrency().isPresent()
                                                ? job.concurrency().getAsInt()
                                                : null,
                                        job.overlap().name().toLowerCase(),
                                        masked,
                                        hidden);
                                built.set(spec);
                                return new NewExecution.Prepared(r.display(), write(spec));
                            }),
                    Event.of("queued", "triggered by " + t.kind(), now(), t.kind()));
        } catch (RenderFailed e) {
            lease.close();
            throw new Refused(Refused.Reason.CANNOT_RENDER, "cannot render the command: " + e.getMessage());
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
        if (created.existing()) {
            lease.close();
            return created;
        }
        Execution e = created.execution();
        LaunchSpec spec = built.get();
        Active a = new Active(e, spec, lease, token());
        Optional<Active> replaced = Optional.empty();
        lock.lock();
        try {
            queue.add(a);
            unfinished.put(a.key(), a);
            if (job.overlap() == Overlap.REPLACE
                    && job.concurrency().isPresent()
                    && perJob.getOrDefault(t.job(), 0) >= job.concurrency().getAsInt()) {
                replaced = running.values().stream()
                        .filter(r -> r.job().equals(t.job()) && !r.replaced)
                        .findFirst();
                replaced.ifPresent(r -> r.replaced = true);
            }
        } finally {
            lock.unlock();
        }
        if (replaced.isPresent()) {
            Active old = replaced.get();
            try {
                signal(old, "kill", Optional.of("replaced by execution " + e.number()), "overseer");
            } catch (Refused ignored) {
                // It ended meanwhile, which frees the slot as well.
            }
        }
        dispatch();
        return created;
    }

    /** Carries a render failure out of the store's transaction, which it rolls back. */
    private static final class RenderFailed extends RuntimeException {
        RenderFailed(String message) {
            super(message, null, false, false);
        }
    }

    private Rendered render(JobDefinition job, Map<String, Object> values, String name, long number, String commit) {
        try {
            return renderer.render(
                    job.action(), job.vars(), values, new Renderer.Builtins(name, number, commit), "scripts");
        } catch (RenderException e) {
            throw new RenderFailed(e.getMessage());
        }
    }

    /** Running plus queued executions of a job. */
    private int occupied(String job) {
        int queued = (int) queue.stream().filter(a -> a.job().equals(job)).count();
        return perJob.getOrDefault(job, 0) + queued;
    }

    /** Starts queued executions while there are free slots, best priority and oldest first. */
    private void dispatch() {
        List<Active> starting = new ArrayList<>();
        lock.lock();
        try {
            if (!accepting) {
                return;
            }
            var it = queue.iterator();
            while (running.size() < settings.maxConcurrent() && it.hasNext()) {
                Active a = it.next();
                Integer limit = a.spec().concurrency();
                if (limit != null && perJob.getOrDefault(a.job(), 0) >= limit) {
                    continue;
                }
                it.remove();
                running.put(a.key(), a);
                perJob.merge(a.job(), 1, Integer::sum);
                starting.add(a);
            }
        } finally {
            lock.unlock();
        }
        for (Active a : starting) {
            Thread.ofVirtual().name("execution-" + a.key()).start(() -> run(a));
        }
    }

    private void run(Active a) {
        try {
            new ExecutionRun(a, store, launcher, groups, settings, clock).run();
        } catch (RuntimeException e) {
            log.error("execution: {} failed in the runner: {}", a.key(), e.toString(), e);
            try {
                store.finished(
                        a.job(),
                        a.number(),
                        OptionalInt.empty(),
                        Event.of("fail", "overseer failed to run it: " + e.getMessage(), now(), "overseer"));
            } catch (RuntimeException again) {
                log.error("execution: {} cannot be marked failed: {}", a.key(), again.getMessage());
            }
        } finally {
            a.lease().close();
            lock.lock();
            try {
                running.remove(a.key());
                perJob.computeIfPresent(a.job(), (j, n) -> n == 1 ? null : n - 1);
                unfinished.remove(a.key());
            } finally {
                lock.unlock();
            }
            a.done().complete(null);
            dispatch();
        }
    }

    public Execution execution(String job, long number) throws Refused {
        return store.execution(job, number)
                .orElseThrow(() -> new Refused(Refused.Reason.UNKNOWN_EXECUTION, "no execution " + job + "/" + number));
    }

    /** Waits until the execution has finished, at most {@code limit}; returns it as it is then. */
    public Execution awaitEnd(String job, long number, Duration limit) throws Refused, InterruptedException {
        Active a = unfinished.get(job + "/" + number);
        if (a != null) {
            try {
                a.done().get(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
                // Answer with the state it has now.
            }
        }
        return execution(job, number);
    }

    /** Completes when the execution has finished (at once if it has). */
    public CompletableFuture<Void> completion(String job, long number) {
        Active a = unfinished.get(job + "/" + number);
        return a == null ? CompletableFuture.completedFuture(null) : a.done();
    }

    /** A captured stream ({@code stdout}, {@code stderr} or {@code output}) of an execution. */
    public OutputView output(String job, long number, String stream) {
        return OutputView.of(ExecutionRun.directory(settings.dataDir(), job, number), stream);
    }

    /** Whether {@code token} is the per-execution token of this running execution. */
    public boolean tokenMatches(String job, long number, String token) {
        Active a = unfinished.get(job + "/" + number);
        return a != null
                && java.security.MessageDigest.isEqual(
                        a.token().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * Records an event on an execution. {@code stop}, {@code continue}, {@code terminate} and
     * {@code kill} also signal its processes; any other valid name is a custom event.
     */
    public Execution event(String job, long number, String name, Optional<String> cause, String source) throws Refused {
        if (!EVENT_NAME.matcher(name).matches() || RESERVED_EVENTS.contains(name)) {
            throw new IllegalArgumentException("event name '" + name + "' must match " + EVENT_NAME.pattern()
                    + " and not be one of " + new TreeSet<>(RESERVED_EVENTS));
        }
        Execution e = execution(job, number);
        Active a = unfinished.get(e.job() + "/" + e.number());
        if (e.finished() || a == null) {
            throw new Refused(
                    Refused.Reason.FINISHED, "execution " + job + "/" + number + " has finished (" + e.status() + ")");
        }
        if (SIGNALS.containsKey(name)) {
            signal(a, name, cause, source);
        } else {
            store.event(job, number, new Event(name, cause, now(), source));
        }
        return execution(job, number);
    }

    private void signal(Active a, String name, Optional<String> cause, String source) throws Refused {
        boolean cancelled = false;
        lock.lock();
        try {
            if (queue.contains(a)) {
                if (name.equals("stop") || name.equals("continue")) {
                    throw new Refused(Refused.Reason.FINISHED, "execution " + a.key() + " is queued, not running");
                }
                queue.remove(a);
                unfinished.remove(a.key());
                cancelled = true;
            }
        } finally {
            lock.unlock();
        }
        store.event(a.job(), a.number(), new Event(name, cause, now(), source));
        if (cancelled) {
            a.lease().close();
            store.finished(
                    a.job(),
                    a.number(),
                    OptionalInt.empty(),
                    Event.of("fail", "cancelled by '" + name + "' before it started", now(), "overseer"));
            a.done().complete(null);
            return;
        }
        long pgid;
        try {
            pgid = a.pid().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new Refused(Refused.Reason.FINISHED, "execution " + a.key() + " did not start");
        }
        if (pgid <= 0) {
            return;
        }
        switch (name) {
            case "kill" -> groups.killAll(pgid, a.runId());
            case "terminate" -> {
                groups.signalAll(pgid, a.runId(), ProcessGroups.SIGTERM);
                // A stopped process acts on SIGTERM only once it runs again.
                groups.signalAll(pgid, a.runId(), ProcessGroups.SIGCONT);
            }
            default -> groups.signalAll(pgid, a.runId(), SIGNALS.get(name));
        }
    }

    /**
     * Stops taking triggers, lets running executions finish for up to {@code grace}, then
     * terminates the rest (recording why) and waits for them to end. Queued ones stay queued.
     */
    public void shutdown(Duration grace) {
        accepting = false;
        List<Active> left;
        lock.lock();
        try {
            left = new ArrayList<>(running.values());
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Active a : left) {
            waitFor(a, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        for (Active a : left) {
            if (!a.done().isDone()) {
                try {
                    signal(a, "terminate", Optional.of("the server is shutting down"), "overseer");
                } catch (Refused | RuntimeException e) {
                    // Ended meanwhile.
                }
            }
        }
        for (Active a : left) {
            waitFor(a, settings.killGrace());
            if (!a.done().isDone()) {
                try {
                    signal(a, "kill", Optional.of("the server is shutting down"), "overseer");
                } catch (Refused | RuntimeException e) {
                    // Ended meanwhile.
                }
                waitFor(a, Duration.ofSeconds(5));
            }
        }
    }

    private static void waitFor(Active a, Duration limit) {
        try {
            a.done().get(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            // Still running.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String token() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Instant now() {
        return clock.instant();
    }
}
