package overseer;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import overseer.api.ConfigRoutes;
import overseer.api.Exchanges;
import overseer.api.HttpApi;
import overseer.api.JobRoutes;
import overseer.api.Router;
import overseer.api.SystemRoutes;
import overseer.api.Tokens;
import overseer.config.ConfigSync;
import overseer.config.RepositoryLoader;
import overseer.config.SyncException;
import overseer.job.JobParser;
import overseer.template.Renderer;
import overseer.version.BuildInfo;

/** The running server: every part built here with {@code new}, started in order, stopped in reverse. */
public final class Overseer implements AutoCloseable {
    /** Everything {@code overseer serve} is told. */
    public record Options(
            ConfigSync.Settings source,
            Path data,
            InetSocketAddress listen,
            Duration poll,
            Optional<Path> tokens,
            Optional<String> gitWebhookSecret) {}

    private final ConfigSync config;
    private final HttpApi api;

    private Overseer(ConfigSync config, HttpApi api) {
        this.config = config;
        this.api = api;
    }

    public static Overseer start(Options options) throws IOException, SyncException {
        // Undertow and XNIO log through jboss-logging; send them to the same one-line log as ours.
        System.setProperty("org.jboss.logging.provider", "slf4j");
        Clock clock = Clock.systemUTC();
        Files.createDirectories(options.data());
        Optional<Tokens> tokens = options.tokens().isPresent()
                ? Optional.of(Tokens.load(options.tokens().get()))
                : Optional.empty();
        ConfigSync config = new ConfigSync(
                options.source(),
                options.data(),
                new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper()))),
                clock);
        try {
            Exchanges exchanges = new Exchanges(new ObjectMapper());
            Router router = new Router();
            new JobRoutes(config, exchanges, clock).register(router);
            new ConfigRoutes(config, exchanges, options.gitWebhookSecret()).register(router);
            new SystemRoutes(config, exchanges, BuildInfo.current()).register(router);
            HttpApi api = new HttpApi(options.listen(), router, exchanges, tokens);
            try {
                // Listen first, so that probes see the server (and /config its progress) during a
                // long first clone; the previous revision, if any, serves from local data meanwhile.
                config.restore();
                api.start();
                config.syncNow();
                config.startPolling(options.poll());
                return new Overseer(config, api);
            } catch (RuntimeException | Error e) {
                api.close();
                throw e;
            }
        } catch (RuntimeException | Error e) {
            config.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return api.address();
    }

    public ConfigSync config() {
        return config;
    }

    @Override
    public void close() {
        api.close();
        config.close();
    }
}
