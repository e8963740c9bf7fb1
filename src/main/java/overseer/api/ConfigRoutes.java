package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.ConfigSync;
import overseer.job.Problem;

/** {@code /config}, {@code /config/sync} and the Git host push webhook {@code /hooks/git}. */
public final class ConfigRoutes {
    private static final Logger log = LoggerFactory.getLogger(ConfigRoutes.class);
    private static final int MAX_HOOK_BODY = 5 * 1024 * 1024;

    private final ConfigSync config;
    private final Supplier<List<Problem>> warnings;
    private final Exchanges exchanges;
    private final Optional<GitHookSignature> signature;

    /** {@code warnings}: what of the active configuration is in force only in part (hooks without their secret). */
    public ConfigRoutes(
            ConfigSync config, Supplier<List<Problem>> warnings, Exchanges exchanges, Optional<String> webhookSecret) {
        this.config = config;
        this.warnings = warnings;
        this.exchanges = exchanges;
        this.signature = webhookSecret.filter(s -> !s.isEmpty()).map(GitHookSignature::new);
    }

    public void register(Router router) {
        router.get(
                "/config",
                (exchange, params) -> exchanges.json(exchange, 200, Views.config(config.status(), warnings.get())));
        router.add(
                "POST",
                "/config/sync",
                new Router.Access.Token(Role.ADMIN),
                (exchange, params) -> exchanges.json(exchange, 200, Views.config(config.syncNow(), warnings.get())));
        router.add("POST", "/hooks/git", new Router.Access.Open(), this::gitHook);
    }

    private void gitHook(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        if (signature.isEmpty()) {
            throw new ApiException(
                    403,
                    "Forbidden",
                    "push webhooks are off: start the server with --git-webhook-secret to accept them");
        }
        byte[] body = exchanges.body(exchange, MAX_HOOK_BODY);
        if (!signature.get().verify(exchange.getRequestHeaders(), body)) {
            log.warn(
                    "config: refused a push webhook from {} with a missing or wrong signature",
                    exchange.getSourceAddress().getAddress().getHostAddress());
            throw new ApiException(401, "Unauthorized", "missing or wrong webhook signature");
        }
        config.requestSync();
        exchanges.json(exchange, 202, Map.of("status", "sync requested"));
    }
}
