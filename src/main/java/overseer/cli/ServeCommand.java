package overseer.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.Overseer;
import overseer.StartupException;
import overseer.api.HttpApi;
import overseer.api.TlsFiles;
import overseer.config.ConfigSync;
import overseer.config.Source;
import overseer.event.RetrySchedule;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code overseer serve}: runs the server until SIGTERM or SIGINT. */
@Command(name = "serve", description = "Run the Overseer server.", showDefaultValues = true)
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--repo",
            required = true,
            defaultValue = "${env:OVERSEER_REPO}",
            description =
                    "the configuration: a Git URL (https, ssh, file://), a local Git repository or a plain directory (env OVERSEER_REPO)")
    String repo;

    @Option(
            names = "--branch",
            defaultValue = "${env:OVERSEER_BRANCH}",
            description = "the branch to follow (default: the remote's HEAD) (env OVERSEER_BRANCH)")
    String branch;

    @Option(
            names = "--subdir",
            defaultValue = "${env:OVERSEER_SUBDIR}",
            description = "the sub-directory of the repository that holds the jobs (env OVERSEER_SUBDIR)")
    String subdir;

    @Option(
            names = "--poll",
            defaultValue = "${env:OVERSEER_POLL:-60}",
            description = "seconds between fetches of the repository (env OVERSEER_POLL)")
    long poll;

    @Option(
            names = "--data",
            defaultValue = "${env:OVERSEER_DATA:-./overseer-data}",
            description = "the data directory (env OVERSEER_DATA)")
    Path data;

    @Option(
            names = "--listen",
            defaultValue = "${env:OVERSEER_LISTEN:-127.0.0.1:8080}",
            description = "address and port to listen on (env OVERSEER_LISTEN)")
    String listen;

    @Option(
            names = "--tokens",
            defaultValue = "${env:OVERSEER_TOKENS}",
            description = "file of '<role> <token>' lines; required to listen beyond loopback (env OVERSEER_TOKENS)")
    Path tokens;

    @Option(
            names = "--git-webhook-secret",
            defaultValue = "${env:OVERSEER_GIT_WEBHOOK_SECRET}",
            description =
                    "secret that push webhooks are signed with; prefer the environment variable (env OVERSEER_GIT_WEBHOOK_SECRET)")
    String gitWebhookSecret;

    @Option(
            names = "--git-ssh-key",
            defaultValue = "${env:OVERSEER_GIT_SSH_KEY}",
            description = "private key file for ssh:// repositories (env OVERSEER_GIT_SSH_KEY)")
    Path sshKey;

    @Option(
            names = "--git-known-hosts",
            defaultValue = "${env:OVERSEER_GIT_KNOWN_HOSTS}",
            description =
                    "known_hosts file that SSH host keys are checked against (default: ~/.ssh/known_hosts) (env OVERSEER_GIT_KNOWN_HOSTS)")
    Path knownHosts;

    @Option(
            names = "--public-url",
            defaultValue = "${env:OVERSEER_PUBLIC_URL}",
            description =
                    "the URL jobs and webhook receivers reach this server at (default: http://<listen>) (env OVERSEER_PUBLIC_URL)")
    String publicUrl;

    @Option(
            names = "--max-concurrent",
            defaultValue = "${env:OVERSEER_MAX_CONCURRENT}",
            description = "executions running at once (default: 2 x cores) (env OVERSEER_MAX_CONCURRENT)")
    Integer maxConcurrent;

    @Option(
            names = "--node-timeout",
            defaultValue = "${env:OVERSEER_NODE_TIMEOUT:-15}",
            description =
                    "seconds of this server's lease in the cluster: renewed every fifth of it; a server that cannot renew it"
                            + " kills its jobs before it runs out, and the others end their executions once it has (at least 3)"
                            + " (env OVERSEER_NODE_TIMEOUT)")
    long nodeTimeout;

    @Option(
            names = "--node-url",
            defaultValue = "${env:OVERSEER_NODE_URL}",
            description =
                    "the URL other servers of the cluster reach this one at (default: --public-url) (env OVERSEER_NODE_URL)")
    String nodeUrl;

    @Option(
            names = "--node-labels",
            defaultValue = "${env:OVERSEER_NODE_LABELS}",
            split = ",",
            description =
                    "labels of this server, which a job's nodes key may ask for, as a,b (env OVERSEER_NODE_LABELS)")
    List<String> nodeLabels;

    @Option(
            names = "--max-queued",
            defaultValue = "${env:OVERSEER_MAX_QUEUED:-10000}",
            description = "queued executions before triggers get 503 (env OVERSEER_MAX_QUEUED)")
    int maxQueued;

    @Option(
            names = "--kill-grace",
            defaultValue = "${env:OVERSEER_KILL_GRACE:-10}",
            description =
                    "seconds between SIGTERM and SIGKILL when an execution times out or is shut down (env OVERSEER_KILL_GRACE)")
    long killGrace;

    @Option(
            names = "--shutdown-grace",
            defaultValue = "${env:OVERSEER_SHUTDOWN_GRACE:-30}",
            description =
                    "seconds running executions may finish after SIGTERM before they are terminated (env OVERSEER_SHUTDOWN_GRACE)")
    long shutdownGrace;

    @Option(
            names = "--webhook-retry",
            defaultValue = "${env:OVERSEER_WEBHOOK_RETRY:-5s,30s,2m,10m,30m,1h,2h}",
            description =
                    "delays between attempts of a failing webhook delivery, the last repeating until 24 h have passed (env OVERSEER_WEBHOOK_RETRY)")
    String webhookRetry;

    @Option(
            names = "--allowed-hosts",
            split = ",",
            defaultValue = "${env:OVERSEER_ALLOWED_HOSTS}",
            description =
                    "more host names this server may be reached by without a tokens file (besides loopback, the listen address and the --public-url host) (env OVERSEER_ALLOWED_HOSTS)")
    List<String> allowedHosts;

    @Option(
            names = "--max-connections",
            defaultValue = "${env:OVERSEER_MAX_CONNECTIONS:-1000}",
            description = "open HTTP connections at most; more wait to be accepted (env OVERSEER_MAX_CONNECTIONS)")
    int maxConnections;

    @Option(
            names = "--max-output",
            defaultValue = "${env:OVERSEER_MAX_OUTPUT:-1073741824}",
            description =
                    "bytes of stdout and stderr one execution may write; past it the job is terminated (env OVERSEER_MAX_OUTPUT)")
    long maxOutput;

    @Option(
            names = "--tls-cert",
            defaultValue = "${env:OVERSEER_TLS_CERT}",
            description =
                    "PEM certificate chain: serve HTTPS (TLS 1.2+); re-read when it changes (env OVERSEER_TLS_CERT)")
    Path tlsCert;

    @Option(
            names = "--tls-key",
            defaultValue = "${env:OVERSEER_TLS_KEY}",
            description = "PEM PKCS#8 private key of --tls-cert (env OVERSEER_TLS_KEY)")
    Path tlsKey;

    @Option(
            names = "--tls-client-ca",
            defaultValue = "${env:OVERSEER_TLS_CLIENT_CA}",
            description =
                    "PEM CA certificates: require client certificates signed by them (mutual TLS) (env OVERSEER_TLS_CLIENT_CA)")
    Path tlsClientCa;

    @Option(
            names = "--job-user",
            defaultValue = "${env:OVERSEER_JOB_USER}",
            description =
                    "run jobs as this account (the server must run as root; needs setpriv) (env OVERSEER_JOB_USER)")
    String jobUser;

    @Option(
            names = "--min-free-disk",
            defaultValue = "${env:OVERSEER_MIN_FREE_DISK:-256}",
            description =
                    "MiB the data directory's disk must have free, else /ready is 503 (env OVERSEER_MIN_FREE_DISK)")
    long minFreeDisk;

    @Option(
            names = "--max-sync-age",
            defaultValue = "${env:OVERSEER_MAX_SYNC_AGE}",
            description =
                    "seconds without a successful sync after which /ready is 503 (default: 10 x --poll; 0: never) (env OVERSEER_MAX_SYNC_AGE)")
    Long maxSyncAge;

    @Option(
            names = "--retain-days",
            defaultValue = "${env:OVERSEER_RETAIN_DAYS:-30}",
            description =
                    "finished executions older than this are removed with their output (env OVERSEER_RETAIN_DAYS)")
    int retainDays;

    @Option(
            names = "--retain-per-job",
            defaultValue = "${env:OVERSEER_RETAIN_PER_JOB:-1000}",
            description = "finished executions kept per job at most (env OVERSEER_RETAIN_PER_JOB)")
    int retainPerJob;

    @Option(
            names = "--store",
            defaultValue = "${env:OVERSEER_STORE:-sqlite}",
            description = "sqlite (a file in --data) or postgresql://host[:port]/database[?params]; the password"
                    + " comes from OVERSEER_STORE_PASSWORD or the pgpass file (env OVERSEER_STORE)")
    String store;

    @Option(
            names = "--log-format",
            defaultValue = "${env:OVERSEER_LOG_FORMAT:-text}",
            description = "text, or json for one JSON object per line (env OVERSEER_LOG_FORMAT)")
    String logFormat;

    @Option(
            names = "--log-level",
            defaultValue = "${env:OVERSEER_LOG_LEVEL:-info}",
            description = "error, warn, info, debug or trace (env OVERSEER_LOG_LEVEL)")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        try {
            Logging.configure(logFormat, logLevel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (poll < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--poll must be at least 1 second");
        }
        int concurrent = maxConcurrent == null ? 2 * Runtime.getRuntime().availableProcessors() : maxConcurrent;
        if (concurrent < 1 || maxQueued < 1 || killGrace < 0 || shutdownGrace < 0) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--max-concurrent and --max-queued must be at least 1; --kill-grace and --shutdown-grace at least 0");
        }
        if (nodeTimeout < 3) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--node-timeout must be at least 3 seconds");
        }
        List<String> labels = nodeLabels == null
                ? List.of()
                : nodeLabels.stream()
                        .map(String::strip)
                        .filter(l -> !l.isEmpty())
                        .distinct()
                        .sorted()
                        .toList();
        for (String label : labels) {
            if (!label.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--node-labels: '" + label + "' is not a label (letters, digits, '_', '.', '-'; at most 63)");
            }
        }
        Source source;
        InetSocketAddress address;
        RetrySchedule retry;
        overseer.store.StoreLocation storeLocation;
        try {
            // One line (not the usage): the value may be a secret the operator mistyped.
            storeLocation = overseer.store.StoreLocation.parse(store);
        } catch (IllegalArgumentException e) {
            return refuse(e);
        }
        try {
            source = Source.parse(repo);
            address = listenAddress(listen);
            retry = RetrySchedule.parse(webhookRetry);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        var settings = new ConfigSync.Settings(
                source,
                Optional.ofNullable(branch).filter(s -> !s.isBlank()),
                Optional.ofNullable(subdir).filter(s -> !s.isBlank()).map(s -> s.replaceAll("^/+|/+$", "")),
                Optional.ofNullable(System.getenv("OVERSEER_GIT_TOKEN")).filter(s -> !s.isBlank()),
                Optional.ofNullable(sshKey).map(ServeCommand::absolute),
                Optional.ofNullable(knownHosts).map(ServeCommand::absolute));
        Optional<HttpApi.Tls> tls;
        try {
            tls = tls();
        } catch (StartupException e) {
            return refuse(e);
        }
        var options = new Overseer.Options(
                settings,
                absolute(data),
                address,
                Duration.ofSeconds(poll),
                Optional.ofNullable(tokens).map(ServeCommand::absolute),
                Optional.ofNullable(gitWebhookSecret).filter(s -> !s.isBlank()),
                concurrent,
                maxQueued,
                Duration.ofSeconds(killGrace),
                Duration.ofSeconds(shutdownGrace),
                Optional.ofNullable(publicUrl).filter(s -> !s.isBlank()).map(s -> s.replaceAll("/+$", "")),
                retry,
                System.getenv(),
                java.time.Clock.systemUTC(),
                new HttpApi.Exposure(
                        allowedHosts == null
                                ? List.of()
                                : allowedHosts.stream()
                                        .map(String::strip)
                                        .filter(h -> !h.isEmpty())
                                        .toList(),
                        maxConnections,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(60),
                        tls),
                maxOutput,
                Optional.ofNullable(jobUser).filter(s -> !s.isBlank()),
                minFreeDisk << 20,
                Duration.ofSeconds(maxSyncAge == null ? 10 * poll : maxSyncAge),
                Duration.ofDays(Math.max(1, retainDays)),
                Math.max(1, retainPerJob),
                storeLocation,
                new Overseer.Options.Cluster(
                        Duration.ofSeconds(nodeTimeout),
                        Optional.ofNullable(nodeUrl).filter(s -> !s.isBlank()).map(s -> s.replaceAll("/+$", "")),
                        labels));
        Overseer overseer;
        try {
            overseer = Overseer.start(options);
        } catch (StartupException | IllegalArgumentException e) {
            return refuse(e);
        }
        InetSocketAddress bound = overseer.address();
        log.info(
                "overseer: listening on http://{}:{} with configuration from {}",
                bound.getAddress().getHostAddress(),
                bound.getPort(),
                source.describe());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("overseer: shutting down");
            overseer.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    /**
     * An expected start-up failure: one line naming the culprit and exit code 2, which the systemd
     * unit's {@code RestartPreventExitStatus=2} does not restart; the stack trace only at debug.
     */
    private int refuse(RuntimeException e) {
        spec.commandLine().getErr().println("overseer serve: " + e.getMessage());
        if (log.isDebugEnabled()) {
            e.printStackTrace(spec.commandLine().getErr());
        }
        return 2;
    }

    private Optional<HttpApi.Tls> tls() {
        if (tlsCert == null && tlsKey == null && tlsClientCa == null) {
            return Optional.empty();
        }
        if (tlsCert == null || tlsKey == null) {
            throw new StartupException("--tls-cert and --tls-key go together (and --tls-client-ca needs both)");
        }
        try {
            return Optional.of(new HttpApi.Tls(
                    TlsFiles.serverContext(
                            absolute(tlsCert),
                            absolute(tlsKey),
                            Optional.ofNullable(tlsClientCa).map(ServeCommand::absolute)),
                    tlsClientCa != null));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new StartupException("TLS: " + e.getFile() + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new StartupException("TLS: " + e.getFile() + ": permission denied", e);
        } catch (java.io.IOException | java.security.GeneralSecurityException | RuntimeException e) {
            throw new StartupException("TLS: " + e.getMessage(), e);
        }
    }

    /**
     * Every path option is resolved once, at start: a job runs in its checkout, so a path left
     * relative would point somewhere else there.
     */
    private static Path absolute(Path path) {
        return path.toAbsolutePath().normalize();
    }

    static InetSocketAddress listenAddress(String value) {
        int colon = value.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : value.substring(0, colon);
        String port = colon < 0 ? value : value.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int number = Integer.parseInt(port);
            if (number < 0 || number > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.getByName(host.isEmpty() ? "0.0.0.0" : host), number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen: '" + value + "' is not HOST:PORT");
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--listen: unknown host '" + host + "'");
        }
    }
}
