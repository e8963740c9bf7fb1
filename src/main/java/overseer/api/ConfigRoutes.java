package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.ConfigSync;

/** {@code /config}, {@code /config/sync} and the Git host push webhook {@code /hooks/git}. */
public final class ConfigRoutes {
    private static final Logger log = LoggerFactory.getLogger(ConfigRoutes.class);
    private static final int MAX_HOOK_BODY = 5 * 1024 * 1024;

    private final ConfigSync config;
    private final Exchanges exchanges;
    private final Optional<GitHookSignature> signature;

    public ConfigRoutes(ConfigSync config, Exchanges exchanges, Optional<String> webhookSecret) {
        this.config = config;
        this.exchanges = exchanges;
        this.signature = webhookSecret.filter(s -> !s.isEmpty()).map(GitHookSignature::new);
    }

    public void register(Router router) {
        router.get("/config", (exchange, params) -> exchanges.json(exchange, 200, Views.config(config.status())));
        router.add(
                "POST",
                "/config/sync",
                new Router.Access.Token(Role.ADMIN),
                (exchange, params) -> exchanges.json(exchange, 200, Views.config(config.syncNow())));
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
