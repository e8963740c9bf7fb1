package overseer;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import overseer.api.ConfigRoutes;
import overseer.api.DeliveryRoutes;
import overseer.api.Exchanges;
import overseer.api.ExecutionRoutes;
import overseer.api.HttpApi;
import overseer.api.JobRoutes;
import overseer.api.Router;
import overseer.api.SystemRoutes;
import overseer.api.Tokens;
import overseer.api.UiRoutes;
import overseer.cluster.NodeLease;
import overseer.config.ConfigSync;
import overseer.config.RepositoryLoader;
import overseer.config.SyncException;
import overseer.event.EventPipe;
import overseer.event.HookSecrets;
import overseer.event.LibraryScripts;
import overseer.event.RetrySchedule;
import overseer.event.WakeUp;
import overseer.event.WebhookSender;
import overseer.event.Webhooks;
import overseer.execution.Executions;
import overseer.execution.JobEvents;
import overseer.execution.JobUser;
import overseer.execution.Params;
import overseer.job.JobParser;
import overseer.metrics.DiskUsage;
import overseer.metrics.Metrics;
import overseer.process.PosixSpawnLauncher;
import overseer.process.Watchdog;
import overseer.schedule.Scheduler;
import overseer.service.ServiceStack;
import overseer.service.Supervisor;
import overseer.store.Retention;
import overseer.store.Store;
import overseer.store.StoreException;
import overseer.store.StoreLocation;
import overseer.store.Stores;
import overseer.template.Renderer;
import overseer.version.BuildInfo;

/** The running server: every part built here with {@code new}, started in order, stopped in reverse. */
public final class Overseer implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Overseer.class);
    /** Everything {@code overseer serve} is told. */
    public record Options(
            ConfigSync.Settings source,
            Path data,
            InetSocketAddress listen,
            Duration poll,
            Optional<Path> tokens,
            Optional<String> gitWebhookSecret,
            int maxConcurrent,
            int maxQueued,
            Duration killGrace,
            Duration shutdownGrace,
            Optional<String> publicUrl,
            RetrySchedule webhookRetry,
            Map<String, String> environment,
            Clock clock,
            HttpApi.Exposure exposure,
            long maxOutputBytes,
            Optional<String> jobUser,
            long minFreeDisk,
            Duration maxSyncAge,
            Duration retain,
            int retainPerJob,
            StoreLocation store,
            Cluster cluster) {
        /** This server as a node: its lease, where other nodes reach it (default: the public URL), its labels. */
        public record Cluster(Duration nodeTimeout, Optional<String> nodeUrl, List<String> labels) {
            public static final Cluster DEFAULTS = new Cluster(Duration.ofSeconds(15), Optional.empty(), List.of());

            public Cluster {
                labels = List.copyOf(labels);
            }
        }

        /** The options on a store, as a single node with the defaults. */
        public Options(
                ConfigSync.Settings source,
                Path data,
                InetSocketAddress listen,
                Duration poll,
                Optional<Path> tokens,
                Optional<String> gitWebhookSecret,
                int maxConcurrent,
                int maxQueued,
                Duration killGrace,
                Duration shutdownGrace,
                Optional<String> publicUrl,
                RetrySchedule webhookRetry,
                Map<String, String> environment,
                Clock clock,
                HttpApi.Exposure exposure,
                long maxOutputBytes,
                Optional<String> jobUser,
                long minFreeDisk,
                Duration maxSyncAge,
                Duration retain,
                int retainPerJob,
                StoreLocation store) {
            this(
                    source,
                    data,
                    listen,
                    poll,
                    tokens,
                    gitWebhookSecret,
                    maxConcurrent,
                    maxQueued,
                    killGrace,
                    shutdownGrace,
                    publicUrl,
                    webhookRetry,
                    environment,
                    clock,
                    exposure,
                    maxOutputBytes,
                    jobUser,
                    minFreeDisk,
                    maxSyncAge,
                    retain,
                    retainPerJob,
                    store,
                    Cluster.DEFAULTS);
        }

        /** The options on the embedded store (the benchmarks build these for any release). */
        public Options(
                ConfigSync.Settings source,
                Path data,
                InetSocketAddress listen,
                Duration poll,
                Optional<Path> tokens,
                Optional<String> gitWebhookSecret,
                int maxConcurrent,
                int maxQueued,
                Duration killGrace,
                Duration shutdownGrace,
                Optional<String> publicUrl,
                RetrySchedule webhookRetry,
                Map<String, String> environment,
                Clock clock,
                HttpApi.Exposure exposure,
                long maxOutputBytes,
                Optional<String> jobUser,
                long minFreeDisk,
                Duration maxSyncAge,
                Duration retain,
                int retainPerJob) {
            this(
                    source,
                    data,
                    listen,
                    poll,
                    tokens,
                    gitWebhookSecret,
                    maxConcurrent,
                    maxQueued,
                    killGrace,
                    shutdownGrace,
                    publicUrl,
                    webhookRetry,
                    environment,
                    clock,
                    exposure,
                    maxOutputBytes,
                    jobUser,
                    minFreeDisk,
                    maxSyncAge,
                    retain,
                    retainPerJob,
                    new StoreLocation.Sqlite());
        }

        Options withData(Path dir) {
            return new Options(
                    source,
                    dir,
                    listen,
                    poll,
                    tokens,
                    gitWebhookSecret,
                    maxConcurrent,
                    maxQueued,
                    killGrace,
                    shutdownGrace,
                    publicUrl,
                    webhookRetry,
                    environment,
                    clock,
                    exposure,
                    maxOutputBytes,
                    jobUser,
                    minFreeDisk,
                    maxSyncAge,
                    retain,
                    retainPerJob,
                    store,
                    cluster);
        }

        /** The defaults of everything but the source, data directory and address. */
        public static Options defaults(ConfigSync.Settings source, Path data, InetSocketAddress listen) {
            return new Options(
                    source,
                    data,
                    listen,
                    Duration.ofSeconds(60),
                    Optional.empty(),
                    Optional.empty(),
                    2 * Runtime.getRuntime().availableProcessors(),
                    10_000,
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(30),
                    Optional.empty(),
                    RetrySchedule.DEFAULT,
                    System.getenv(),
                    Clock.systemUTC(),
                    HttpApi.Exposure.defaults(List.of()),
                    1L << 30,
                    Optional.empty(),
                    256L << 20,
                    Duration.ofMinutes(10),
                    Duration.ofDays(30),
                    1000,
                    new StoreLocation.Sqlite());
        }
    }

    private final ConfigSync config;
    private final Store store;
    private final Executions executions;
    private final Scheduler scheduler;
    private final Retention retention;
    private final HttpApi api;
    private final Supervisor supervisor;
    private final ServiceStack started;

    private Overseer(
            ConfigSync config,
            Store store,
            Executions executions,
            Scheduler scheduler,
            Retention retention,
            HttpApi api,
            Supervisor supervisor,
            ServiceStack started) {
        this.config = config;
        this.store = store;
        this.executions = executions;
        this.scheduler = scheduler;
        this.retention = retention;
        this.api = api;
        this.supervisor = supervisor;
        this.started = started;
    }

    /**
     * What a test may change beyond the options: a decorator around the store (a fault-injecting
     * one, to prove recovery), the background services' error policy (a quicker backoff) and how
     * many events one execution may record (a cap a test can reach without 10,000 commits).
     */
    public record Hooks(java.util.function.UnaryOperator<Store> store, Supervisor.Settings services, int maxEvents) {
        public static final int MAX_EVENTS = 10_000;
        public static final Hooks NONE = new Hooks(s -> s, Supervisor.Settings.DEFAULT, MAX_EVENTS);
    }

    public static Overseer start(Options given) throws IOException, SyncException {
        return start(given, Hooks.NONE);
    }

    /**
     * Starts the server's parts in order, each pushed on one {@link ServiceStack} with how it
     * stops; a start that fails stops what it started, in reverse, and throws. The checks an
     * operator can fail (tokens file, data directory, its lock, the address) come first and throw
     * a {@link StartupException}: a second server on the same data directory, or on a busy
     * address, stops there, before recovery could touch the running server's executions.
     */
    public static Overseer start(Options given, Hooks hooks) throws IOException, SyncException {
        Options options = given.withData(given.data().toAbsolutePath().normalize());
        // Undertow and XNIO log through jboss-logging; send them to the same one-line log as ours.
        System.setProperty("org.jboss.logging.provider", "slf4j");
        ServiceStack started = new ServiceStack();
        try {
            return start(options, hooks, started);
        } catch (RuntimeException | Error | IOException | SyncException e) {
            started.stopAll();
            throw e;
        }
    }

    private static Overseer start(Options options, Hooks hooks, ServiceStack started)
            throws IOException, SyncException {
        Clock clock = options.clock();
        Optional<Tokens> tokens = options.tokens().isPresent()
                ? Optional.of(tokens(options.tokens().get()))
                : Optional.empty();
        dataDirectory(options.data());
        started.push("data directory lock", DataLock.acquire(options.data())::close);
        // Marked as Overseer's, so that a plain-directory source or `overseer run` never reads it.
        overseer.config.DataMarker.mark(options.data());
        // Strict: a body with a duplicate key or trailing data is refused, not half-read.
        ObjectMapper json = com.fasterxml.jackson.databind.json.JsonMapper.builder()
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        Renderer renderer = new Renderer(json);
        Path library = options.data().resolve("lib");
        Optional<JobUser> jobUser = options.jobUser().isPresent()
                ? Optional.of(JobUser.lookup(options.jobUser().get()))
                : Optional.empty();
        ConfigSync config =
                new ConfigSync(options.source(), options.data(), new RepositoryLoader(new JobParser(renderer)), clock);
        Metrics metrics = Metrics.withJvm();
        Supervisor supervisor = new Supervisor(hooks.services(), metrics);
        // OVERSEER_URL needs the port actually bound, known once the API listens.
        AtomicReference<InetSocketAddress> bound = new AtomicReference<>(options.listen());
        String scheme = options.exposure().tls().isPresent() ? "https" : "http";
        Supplier<String> publicUrl = () -> options.publicUrl().orElseGet(() -> publicUrl(scheme, bound.get()));
        HookSecrets secrets = new HookSecrets(options.environment());
        WakeUp deliveriesWritten = new WakeUp();
        Webhooks webhooks = new Webhooks(config::active, secrets, publicUrl, json, deliveriesWritten::ring);
        Exchanges exchanges = new Exchanges(json);
        Router router = new Router();
        List<String> hosts = new java.util.ArrayList<>(options.exposure().hosts());
        options.publicUrl().map(u -> java.net.URI.create(u).getHost()).ifPresent(hosts::add);
        HttpApi api = new HttpApi(
                options.listen(),
                router,
                exchanges,
                tokens,
                new HttpApi.Exposure(
                        hosts,
                        options.exposure().maxConnections(),
                        options.exposure().parseTimeout(),
                        options.exposure().idleTimeout(),
                        options.exposure().tls()),
                metrics);
        // Bound before anything is read or recovered, answering only /health until it opens.
        new overseer.api.HealthRoute(config, exchanges).register(router);
        started.push("api (listening)", api::close);
        listen(api, options.listen());
        bound.set(api.address());

        LibraryScripts.install(library);
        Files.createDirectories(options.data().resolve("executions"));
        Store store = hooks.store().apply(openStore(options, api, webhooks, started));
        started.push("store", store::close);
        Path eventPipe = options.data().resolve("run").resolve("events");
        PosixSpawnLauncher launcher = new PosixSpawnLauncher();
        NodeLease.Settings node = new NodeLease.Settings(
                options.cluster().nodeTimeout(),
                () -> options.cluster().nodeUrl().or(() -> Optional.of(publicUrl.get())),
                options.cluster().labels(),
                BuildInfo.current().version(),
                options.data());
        // Started before any job can be: every job carries the marker it kills by. On a store
        // no other server shares, no one takes over a silent server's work: its watchdog acts
        // only when the server is gone.
        Watchdog watchdog = Watchdog.start(
                launcher,
                options.data().resolve("run"),
                newMark(),
                store.clustered() ? node.fenceAfter() : Duration.ofDays(3650));
        started.push("watchdog", watchdog::close);
        Executions executions = new Executions(
                new Executions.Settings(
                        options.data(),
                        options.maxConcurrent(),
                        options.maxQueued(),
                        options.killGrace(),
                        publicUrl,
                        library,
                        eventPipe,
                        options.maxOutputBytes(),
                        hooks.maxEvents(),
                        jobUser,
                        metrics,
                        watchdog.mark()),
                store,
                config,
                launcher,
                renderer,
                new Params(json),
                json,
                clock);
        BuildInfo build = BuildInfo.current();
        NodeLease lease = new NodeLease(store, executions, watchdog, node);
        // Before the webhook sender and the queue: they claim as this node.
        lease.register();
        WebhookSender sender = new WebhookSender(
                store,
                secrets,
                WebhookSender.Settings.defaults(options.webhookRetry()),
                clock,
                deliveriesWritten,
                "Overseer/" + build.version(),
                metrics);
        Scheduler scheduler =
                new Scheduler(config::active, executions::enabled, store, executions::fire, clock, metrics);
        Retention retention = new Retention(
                store, options.data().resolve("executions"), options.retain(), options.retainPerJob(), clock);
        config.onApplied(snapshot -> scheduler.sync());
        executions.onEnabledChanged(scheduler::sync);
        new JobRoutes(config, executions, exchanges, scheduler).register(router);
        new ExecutionRoutes(executions, exchanges).register(router);
        new UiRoutes(exchanges, tokens.isPresent()).register(router);
        new overseer.api.NodeRoutes(store, exchanges).register(router);
        Supplier<List<overseer.job.Problem>> warnings = () -> {
            List<overseer.job.Problem> all = new java.util.ArrayList<>(webhooks.warnings());
            all.addAll(overseer.execution.ServerSecrets.warnings(config.active(), System.getenv()));
            return all;
        };
        new ConfigRoutes(config, warnings, exchanges, options.gitWebhookSecret()).register(router);
        new DeliveryRoutes(store, webhooks, sender, exchanges, clock).register(router);
        new SystemRoutes(
                        config,
                        executions,
                        exchanges,
                        build,
                        new SystemRoutes.Readiness(options.data(), options.minFreeDisk(), options.maxSyncAge()),
                        supervisor::problems,
                        clock,
                        metrics)
                .register(router);
        gauges(options, metrics, store, executions, config, clock);
        config.onSynced(s -> metrics.configSync(s.outcome().name().toLowerCase(java.util.Locale.ROOT)));

        // The previous revision, if any, serves from local data until the first sync.
        started.push("config", config::close);
        // Hooks disabled for a missing secret are logged as their configuration comes into force,
        // not when the first event looks for its hooks.
        config.onApplied(snapshot -> webhooks.warnings());
        config.restore();
        webhooks.warnings();
        sender.start(supervisor);
        started.push("webhook sender", sender::close);
        EventPipe events = EventPipe.start(
                eventPipe,
                new JobEvents(executions),
                jobUser.map(JobUser::uid).orElseGet(EventPipe::serverUid),
                supervisor);
        started.push("event pipe", events::close);
        if (jobUser.isPresent()) {
            DataPermissions.forJobUser(options.data(), eventPipe, jobUser.get());
        }
        // Stopped before the event pipe and after the executions, which may use it until they end.
        started.push("api", api::close);
        Duration grace = options.shutdownGrace();
        // Stopped after the executions: the lease ends once nothing runs.
        lease.start(supervisor);
        started.push("node", lease::leave);
        started.push("executions", () -> executions.shutdown(grace));
        executions.recover();
        executions.startQueue(supervisor);
        api.open();
        retention.start(supervisor);
        started.push("retention", retention::close);
        scheduler.start(supervisor);
        started.push("scheduler", scheduler::close);
        // Probes see the server (and /config its progress) during a long first clone.
        config.syncNow();
        config.startPolling(supervisor, options.poll());
        return new Overseer(config, store, executions, scheduler, retention, api, supervisor, started);
    }

    /**
     * Opens the store. A database that is away, missing or refuses the credentials is not a crash:
     * it is one line per attempt, naming host and database, and the server keeps trying with
     * backoff while {@code /ready} and every route but {@code /health} answer 503 with that line.
     * The embedded store either opens or is a start-up failure: no one else will fix its file.
     */
    private static Store openStore(Options options, HttpApi api, Webhooks webhooks, ServiceStack started) {
        Optional<String> password = Optional.ofNullable(
                        options.environment().get(overseer.store.PostgresStore.PASSWORD_VARIABLE))
                .filter(p -> !p.isEmpty());
        Duration backoff = Duration.ofSeconds(1);
        while (true) {
            try {
                Store store = Stores.open(options.store(), options.data(), password, webhooks);
                api.unavailable(Optional.empty());
                log.info("store: {}", options.store().describe());
                return store;
            } catch (StoreException e) {
                if (options.store() instanceof StoreLocation.Sqlite) {
                    throw e;
                }
                String problem = e.getMessage();
                api.unavailable(Optional.of(problem));
                log.error("{}; trying again in {} s", problem, backoff.toSeconds());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new StartupException("interrupted while waiting for the store: " + problem, interrupted);
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0
                        ? Duration.ofSeconds(30)
                        : backoff.multipliedBy(2);
            }
        }
    }

    /** The marker of this server's jobs, which its watchdog kills by: random per start. */
    private static String newMark() {
        byte[] bytes = new byte[12];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.HexFormat.of().formatHex(bytes);
    }

    /** Reads the tokens file; what is wrong with it is one line naming the file. */
    private static Tokens tokens(Path file) {
        try {
            return Tokens.load(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new StartupException("--tokens: " + file + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new StartupException("--tokens: " + file + ": permission denied", e);
        } catch (IOException e) {
            throw new StartupException("--tokens: " + e.getMessage(), e);
        }
    }

    /** Creates the data directory; one that cannot be is one line naming it. */
    private static void dataDirectory(Path data) {
        try {
            Files.createDirectories(data);
        } catch (IOException e) {
            String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null
                    ? f.getFile() + ": " + f.getReason()
                    : e.toString();
            throw new StartupException("data directory " + data + " cannot be created: " + reason, e);
        }
        if (!Files.isWritable(data)) {
            throw new StartupException("data directory " + data + " is not writable");
        }
    }

    /** Binds the API; an address in use (or not this host's) is one line naming it. */
    private static void listen(HttpApi api, InetSocketAddress address) {
        try {
            api.start();
        } catch (RuntimeException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof java.net.BindException bind) {
                    String host = address.getAddress().getHostAddress();
                    throw new StartupException(
                            "cannot listen on " + (host.contains(":") ? "[" + host + "]" : host) + ":"
                                    + address.getPort() + ": " + bind.getMessage(),
                            e);
                }
            }
            throw e;
        }
    }

    private static void gauges(
            Options options, Metrics metrics, Store store, Executions executions, ConfigSync config, Clock clock) {
        // Both webhook gauges come from one query per scrape, not one each.
        Supplier<Store.Backlog> backlog = recent(store::deliveryBacklog, Duration.ofSeconds(1));
        metrics.gauge("overseer_queue_depth", "executions waiting for a slot", executions::queueDepth);
        metrics.gauge("overseer_running", "executions holding a slot", executions::runningCount);
        Supplier<Integer> unplaced = recent(
                () -> {
                    List<overseer.store.ClusterNode> nodes = store.nodes();
                    return store.queuedNeeding().entrySet().stream()
                            .filter(e -> overseer.store.ClusterNode.unplaced(nodes, e.getKey())
                                    .isPresent())
                            .mapToInt(Map.Entry::getValue)
                            .sum();
                },
                Duration.ofSeconds(1));
        metrics.gauge(
                "overseer_queued_without_node",
                "queued executions whose job asks for labels no live node has",
                unplaced::get);
        metrics.gauge(
                "overseer_nodes_live",
                "nodes of the cluster whose lease is live",
                recent(
                        () -> (int) store.nodes().stream()
                                .filter(n -> n.state() == overseer.store.ClusterNode.State.LIVE)
                                .count(),
                        Duration.ofSeconds(1))::get);
        metrics.gauge(
                "overseer_config_last_sync_seconds",
                "Unix time of the last sync attempt",
                () -> config.status()
                        .lastSync()
                        .map(t -> t.toEpochMilli() / 1000.0)
                        .orElse(null));
        metrics.gauge(
                "overseer_config_last_success_seconds",
                "Unix time of the last sync that read the source",
                () -> config.status()
                        .lastSuccess()
                        .map(t -> t.toEpochMilli() / 1000.0)
                        .orElse(null));
        metrics.gauge(
                "overseer_config_active_age_seconds",
                "seconds since the active commit was applied",
                () -> config.active()
                        .map(s ->
                                Duration.between(s.appliedAt(), clock.instant()).toMillis() / 1000.0)
                        .orElse(null));
        metrics.gauge(
                "overseer_config_sync_failing",
                "1 when the last sync could not read the source or found the newest commit invalid",
                () -> switch (config.status().outcome()) {
                    case FAILED, INVALID -> 1;
                    default -> 0;
                });
        metrics.gauge(
                "overseer_webhook_backlog",
                "webhook deliveries not yet sent",
                () -> backlog.get().count());
        metrics.gauge(
                "overseer_webhook_oldest_pending_seconds",
                "age of the oldest delivery not yet sent",
                () -> backlog.get()
                        .oldest()
                        .map(t -> Duration.between(t, clock.instant()).toMillis() / 1000.0)
                        .orElse(0.0));
        DiskUsage outputs = new DiskUsage(options.data().resolve("executions"), Duration.ofMinutes(1));
        metrics.gauge(
                "overseer_executions_disk_bytes",
                "bytes of the executions' output files (measured at most once a minute)",
                outputs::bytes);
        metrics.gauge("overseer_database_bytes", "bytes of the database and its write-ahead log", () -> {
            long total = 0;
            for (Path file : Stores.files(options.store(), options.data())) {
                total += file.toFile().length();
            }
            return total;
        });
    }

    /** {@code source}'s value, read again only once it is older than {@code maxAge}. */
    private static <T> Supplier<T> recent(Supplier<T> source, Duration maxAge) {
        AtomicReference<Map.Entry<Long, T>> last = new AtomicReference<>();
        return () -> {
            Map.Entry<Long, T> seen = last.get();
            long now = System.nanoTime();
            if (seen == null || now - seen.getKey() > maxAge.toNanos()) {
                seen = Map.entry(now, source.get());
                last.set(seen);
            }
            return seen.getValue();
        };
    }

    private static String publicUrl(String scheme, InetSocketAddress listen) {
        String host = listen.getAddress().isAnyLocalAddress()
                ? "127.0.0.1"
                : listen.getAddress().getHostAddress();
        return scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + listen.getPort();
    }

    public InetSocketAddress address() {
        return api.address();
    }

    public ConfigSync config() {
        return config;
    }

    public Executions executions() {
        return executions;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Store store() {
        return store;
    }

    public Retention retention() {
        return retention;
    }

    /** The background services' supervisor (their problems are what {@code /ready} reports). */
    public Supervisor supervisor() {
        return supervisor;
    }

    /**
     * Stops in the reverse order of the start: no new fires, running executions get the shutdown
     * grace and are then terminated, and only then the API, the event pipe, the webhook sender,
     * the sync, the store and the data directory's lock go. Every part is stopped whatever the
     * one before it threw.
     */
    @Override
    public void close() {
        started.stopAll();
    }
}
