package overseer.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.execution.Executions;
import overseer.process.Watchdog;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;
import overseer.store.NodeRegistration;
import overseer.store.Store;

/**
 * This server as a node of the cluster: its registration (a random id per start), the renewal
 * of its lease on the database's clock every {@code timeout}/5, and its fence. The fence goes by
 * this JVM's monotonic clock, never the database's: when no renewal succeeded for the lease less
 * a margin, the node stops starting executions and kills those it runs, before the lease can have
 * run out in the database and another node could count their places free; its watchdog does the
 * same from outside the JVM. A fenced node registers again, under a new id, once it reaches the
 * database: what it held under the old one is ended by whichever node finds that lease expired.
 */
public final class NodeLease {
    private static final Logger log = LoggerFactory.getLogger(NodeLease.class);

    /** The file in the data directory that names the node last registered from it. */
    static final String ID_FILE = "node-id";

    /**
     * {@code timeout}: the lease; {@code url}: where other nodes reach this one; {@code labels}: what
     * jobs may ask of it.
     */
    public record Settings(
            Duration timeout, Supplier<Optional<String>> url, List<String> labels, String version, Path dataDir) {
        public static final Duration MIN_TIMEOUT = Duration.ofSeconds(3);

        public Settings {
            labels = List.copyOf(labels);
            if (timeout.compareTo(MIN_TIMEOUT) < 0) {
                throw new IllegalArgumentException("--node-timeout must be at least 3 seconds");
            }
        }

        /** Between two renewals. */
        Duration interval() {
            return timeout.dividedBy(5);
        }

        /**
         * How long before the lease could run out the node fences itself: a fifth, at least a
         * second. It covers the fence's own check (every 100 ms), the kills, and the watchdog,
         * which counts from the beat after a renewal (up to {@link #beatWithin} after it was
         * sent) and looks five times a second. A wider margin fences a node through shorter
         * database outages (it then takes its lease back: nothing is lost, but its jobs die).
         */
        Duration margin() {
            Duration fifth = timeout.dividedBy(5);
            return fifth.compareTo(Duration.ofSeconds(1)) > 0 ? fifth : Duration.ofSeconds(1);
        }

        /** A renewal that took longer is not told to the watchdog: it would count from too late. */
        Duration beatWithin() {
            return margin().dividedBy(4);
        }

        /** Between two tries of a renewal that failed. */
        Duration retry() {
            return Duration.ofMillis(Math.min(500, interval().toMillis()));
        }

        /** How long without a renewal the node and its watchdog wait before they act. */
        public Duration fenceAfter() {
            return timeout.minus(margin());
        }
    }

    private enum State {
        LIVE,
        /** It could not renew in time: nothing starts until it registers again. */
        FENCED
    }

    private final Store store;
    private final Executions executions;
    private final Watchdog watchdog;
    private final Settings settings;
    private final String host;
    private final SecureRandom random = new SecureRandom();
    private final ReentrantLock lock = new ReentrantLock();

    /** Guarded by {@link #lock}. */
    private State state = State.LIVE;
    /** {@link System#nanoTime} when the last renewal that succeeded was sent. */
    private volatile long renewedAt;
    /** The node that last ran on this data directory, whose work this start ends at once. */
    private Optional<String> predecessor = Optional.empty();

    public NodeLease(Store store, Executions executions, Watchdog watchdog, Settings settings) {
        this.store = store;
        this.executions = executions;
        this.watchdog = watchdog;
        this.settings = settings;
        this.host = hostName();
    }

    /**
     * Registers this server, ends its predecessor's lease on this data directory and its work
     * (as a restart did before nodes), and any other node's whose lease ran out.
     */
    public void register() throws IOException {
        Path file = settings.dataDir().resolve(ID_FILE);
        if (Files.exists(file)) {
            predecessor = Optional.of(Files.readString(file).strip()).filter(s -> !s.isEmpty());
        }
        String id = registerAs();
        predecessor.ifPresent(store::expireNode);
        executions.reapExpiredNodes(predecessor);
        log.info(
                "cluster: this server is node {} (lease {} s{})",
                id,
                settings.timeout().toSeconds(),
                settings.labels().isEmpty() ? "" : ", labels " + String.join(",", settings.labels()));
    }

    /** Registers under a new id and records it in the data directory; returns the id. */
    private String registerAs() throws IOException {
        byte[] bytes = new byte[8];
        random.nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        long sent = System.nanoTime();
        store.registerNode(
                new NodeRegistration(id, settings.url().get(), settings.version(), settings.labels(), host),
                settings.timeout());
        renewedAt = sent;
        watchdog.beat();
        Path file = settings.dataDir().resolve(ID_FILE);
        Path next = settings.dataDir().resolve(ID_FILE + ".next");
        Files.writeString(next, id + "\n");
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return id;
    }

    public void start(Supervisor supervisor) {
        services.add(supervisor.start(new Renewal()));
        // A server no other shares its store with is never fenced: no one would take over its
        // work, so stopping it would only lose time (a full disk that fails the renewals, say).
        if (store.clustered()) {
            services.add(supervisor.start(new Fence()));
        }
        services.add(supervisor.start(new Reaper()));
    }

    /** The services {@link #start} started, stopped by {@link #leave}. */
    private final List<Supervisor.Handle> services = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** At a clean stop, once the executions ended: the lease ends now, and the watchdog with it. */
    public void leave() {
        services.forEach(Supervisor.Handle::close);
        try {
            store.leaveNode();
        } finally {
            watchdog.close();
        }
    }

    /** Whether this node holds its lease (it is not fenced). */
    public boolean live() {
        lock.lock();
        try {
            return state == State.LIVE;
        } finally {
            lock.unlock();
        }
    }

    private void fence(String why) {
        lock.lock();
        try {
            if (state != State.LIVE) {
                return;
            }
            state = State.FENCED;
            int killed = executions.fence();
            log.error(
                    "cluster: node {} fenced: {}; the processes of its {} running execution(s) were killed, and"
                            + " nothing starts here until it registers again",
                    store.nodeId(),
                    why,
                    killed);
        } finally {
            lock.unlock();
        }
    }

    /** Renews the lease; a fenced node registers again instead. */
    private final class Renewal implements BackgroundService {
        @Override
        public String name() {
            return "node-lease";
        }

        @Override
        public Duration runOnce() throws IOException, InterruptedException {
            if (!live()) {
                registerAgain();
                return settings.interval();
            }
            long sent = System.nanoTime();
            if (!store.renewNode(settings.timeout())) {
                fence("its lease ran out before it could be renewed");
                return Duration.ZERO;
            }
            long took = System.nanoTime() - sent;
            lock.lock();
            try {
                if (state == State.LIVE) {
                    renewedAt = sent;
                    // A renewal that took long may have been made late in its round trip: the
                    // watchdog, which counts from the beat, could then act after the lease ran out.
                    if (took < settings.beatWithin().toNanos()) {
                        watchdog.beat();
                    }
                }
            } finally {
                lock.unlock();
            }
            return settings.interval();
        }

        /**
         * Takes the lease back when no node ended this one's work (a database outage, which no
         * node could act in), so that what the runs kept is recorded as it happened; otherwise
         * registers under a new id and leaves the old one's work to the node that ended it.
         */
        private void registerAgain() throws IOException, InterruptedException {
            String old = store.nodeId();
            long sent = System.nanoTime();
            boolean reclaimed = store.reclaimNode(settings.timeout());
            if (reclaimed) {
                renewedAt = sent;
                if (System.nanoTime() - sent < settings.beatWithin().toNanos()) {
                    watchdog.beat();
                }
            } else {
                registerAs();
                try {
                    store.expireNode(old);
                } catch (overseer.store.StoreException e) {
                    // Registered: the old lease runs out by itself, and a reaper ends its work.
                    log.warn("cluster: node {} not ended at once: {}", old, e.getMessage());
                }
            }
            // The watchdog looks at its beats five times a second: one that saw the last beat
            // before it came must not kill what starts now.
            Thread.sleep(Duration.ofMillis(500));
            lock.lock();
            try {
                state = State.LIVE;
                executions.unfence(!reclaimed);
            } finally {
                lock.unlock();
            }
            if (reclaimed) {
                log.warn(
                        "cluster: node {} has its lease again (no other node had ended its work); what its"
                                + " executions did meanwhile is recorded now",
                        old);
            } else {
                log.warn(
                        "cluster: registered again as node {}; node {} is left for the cluster to end",
                        store.nodeId(),
                        old);
            }
        }

        @Override
        public Optional<Duration> maxBackoff() {
            // A renewal that failed is tried again soon: the lease runs out while it waits.
            return Optional.of(settings.retry());
        }
    }

    /** Fences the node when no renewal succeeded in time, whatever the renewal is waiting for. */
    private final class Fence implements BackgroundService {
        private static final Duration CHECK = Duration.ofMillis(100);

        @Override
        public String name() {
            return "node-fence";
        }

        @Override
        public Duration runOnce() {
            long since = System.nanoTime() - renewedAt;
            if (live() && since > settings.fenceAfter().toNanos()) {
                fence("no renewal of its lease succeeded for "
                        + Duration.ofNanos(since).toMillis() + " ms");
            }
            return CHECK;
        }
    }

    /** Ends the work of nodes whose lease ran out: every node looks, one ends each. */
    private final class Reaper implements BackgroundService {
        @Override
        public String name() {
            return "node-reaper";
        }

        @Override
        public Duration runOnce() {
            if (live()) {
                executions.reapExpiredNodes(predecessor);
            }
            return settings.interval();
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
