package overseer.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One server setup for a test class: before each test a fresh Git repository (with the class's
 * jobs committed) and a data directory in a temporary directory of its own; the server starts
 * when the test first asks for it, with the class's settings and any of the test's own; after
 * each test the server and repository are closed and the directory removed.
 *
 * <pre>{@code
 * @RegisterExtension
 * final ServerFixture fixture = ServerFixture.jobs("echo.yml", "command: echo hi\n")
 *         .settings(s -> s.maxConcurrent(1));
 * }</pre>
 */
public final class ServerFixture implements BeforeEachCallback, AfterEachCallback {
    private final Map<String, String> jobs;
    private final UnaryOperator<TestServer.Builder> settings;
    /** Set when a server of a {@link #withFaults} fixture opens its store. */
    private final AtomicReference<FaultyStore> faults;

    private Path tmp;
    private TestRepo repo;
    private TestServer server;

    private ServerFixture(
            Map<String, String> jobs, UnaryOperator<TestServer.Builder> settings, AtomicReference<FaultyStore> faults) {
        this.jobs = jobs;
        this.settings = settings;
        this.faults = faults;
    }

    /** A fixture whose repository starts empty: each test commits its own jobs. */
    public static ServerFixture empty() {
        return new ServerFixture(Map.of(), s -> s, new AtomicReference<>());
    }

    /** A fixture whose repository holds these files (path, content, path, content, …) in one commit. */
    public static ServerFixture jobs(String... pathsAndContents) {
        if (pathsAndContents.length % 2 != 0) {
            throw new IllegalArgumentException("jobs take pairs of path and content");
        }
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < pathsAndContents.length; i += 2) {
            files.put(pathsAndContents[i], pathsAndContents[i + 1]);
        }
        return new ServerFixture(Map.copyOf(files), s -> s, new AtomicReference<>());
    }

    /** The class's server settings, applied to every server this fixture starts. */
    public ServerFixture settings(UnaryOperator<TestServer.Builder> value) {
        return new ServerFixture(jobs, value, faults);
    }

    /** The same fixture, its servers storing through a {@link FaultyStore} (see {@link #faults}); call it last. */
    public ServerFixture withFaults() {
        AtomicReference<FaultyStore> handle = new AtomicReference<>();
        return new ServerFixture(
                jobs, s -> settings.apply(s).store(store -> FaultyStore.wrap(store, handle::set)), handle);
    }

    /** The handle of the running server's {@link FaultyStore}; needs {@link #withFaults}. */
    public FaultyStore faults() {
        FaultyStore handle = faults.get();
        if (handle == null) {
            throw new IllegalStateException("no FaultyStore: use withFaults() and start the server first");
        }
        return handle;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        tmp = Files.createTempDirectory("overseer-test-");
        repo = TestRepo.create(tmp.resolve("repo"));
        if (!jobs.isEmpty()) {
            for (var file : jobs.entrySet()) {
                repo.with(file.getKey(), file.getValue());
            }
            repo.commit("jobs");
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        try {
            stop();
            repo.close();
        } finally {
            TestPostgres.forgetUnder(tmp);
            delete(tmp);
        }
    }

    /** The test's repository: change and commit it like an operator would. */
    public TestRepo repo() {
        return repo;
    }

    /** A scratch directory of the test's own, removed after it. */
    public Path tmp() {
        return tmp;
    }

    /** The server's data directory; it outlives a {@link #restart}. */
    public Path data() {
        return tmp.resolve("data");
    }

    /** The running server, started with the class's settings when first asked for. */
    public TestServer server() throws Exception {
        return server == null ? start(s -> s) : server;
    }

    /** Starts the server with the class's settings and then the test's own. */
    public TestServer start(UnaryOperator<TestServer.Builder> more) throws Exception {
        if (server != null) {
            throw new IllegalStateException("the server is running; stop() or restart() it first");
        }
        server = more.apply(settings.apply(TestServer.on(repo.url(), data()))).start();
        return server;
    }

    /** Closes the running server, if any; its data directory stays. */
    public void stop() {
        if (server != null) {
            TestServer running = server;
            server = null;
            running.close();
        }
    }

    /** Closes the running server and starts another on the same repository and data. */
    public TestServer restart(UnaryOperator<TestServer.Builder> more) throws Exception {
        stop();
        return start(more);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(all::add);
        }
        for (Path path : all) {
            Files.deleteIfExists(path);
        }
    }
}
