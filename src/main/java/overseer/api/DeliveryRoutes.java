package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import overseer.event.Urls;
import overseer.event.WebhookSender;
import overseer.event.Webhooks;
import overseer.store.Delivery;
import overseer.store.Store;

/** Webhook deliveries across jobs, sending one again, and a test ping to a hook: all for admins. */
public final class DeliveryRoutes {
    private static final List<String> STATES = List.of("pending", "failing", "delivered", "failed", "expired");

    private final Store store;
    private final Webhooks webhooks;
    private final WebhookSender sender;
    private final Exchanges exchanges;
    private final Clock clock;

    public DeliveryRoutes(Store store, Webhooks webhooks, WebhookSender sender, Exchanges exchanges, Clock clock) {
        this.store = store;
        this.webhooks = webhooks;
        this.sender = sender;
        this.exchanges = exchanges;
        this.clock = clock;
    }

    public void register(Router router) {
        Router.Access admin = new Router.Access.Token(Role.ADMIN);
        router.add("GET", "/deliveries", admin, this::list);
        router.add("POST", "/deliveries/{id}/retry", admin, this::retry);
        router.add("POST", "/hooks/test", admin, this::test);
    }

    private void list(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Optional<String> state = ExecutionRoutes.query(exchange, "state");
        if (state.isPresent() && !STATES.contains(state.get())) {
            throw ExecutionRoutes.badRequest("state", "expected one of " + STATES + ", got '" + state.get() + "'");
        }
        int limit = ExecutionRoutes.query(exchange, "limit")
                .map(t -> ExecutionRoutes.parseInt("limit", t, 1, 1000))
                .orElse(100);
        exchanges.json(
                exchange,
                200,
                store.deliveries(state, limit).stream().map(Views::delivery).toList());
    }

    private void retry(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        String id = params.get("id");
        Delivery d = store.delivery(id).orElseThrow(() -> ApiException.notFound("no delivery " + id));
        if (!store.redeliver(id, clock.instant(), clock.instant().plus(Webhooks.WINDOW))) {
            throw new ApiException(
                    409,
                    "Conflict",
                    "delivery " + id + " is " + d.state().column() + "; only a failed or expired one is sent again");
        }
        sender.wake();
        exchanges.json(exchange, 202, Views.delivery(store.delivery(id).orElseThrow()));
    }

    private void test(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        String url = ExecutionRoutes.query(exchange, "url")
                .orElseThrow(() -> ExecutionRoutes.badRequest("url", "give the URL of a configured hook"));
        Webhooks.Hook hook = webhooks.hook(url)
                .orElseThrow(() -> ApiException.notFound("no hook in force has the URL " + Urls.mask(url)));
        WebhookSender.PingResult result = sender.ping(hook, webhooks.ping(clock.instant()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("url", Urls.mask(url));
        body.put("signed", hook.spec().secretVariable().isPresent());
        body.put("status", result.status().isPresent() ? result.status().getAsInt() : null);
        body.put("error", result.error().orElse(null));
        body.put("ok", result.status().isPresent() && result.status().getAsInt() / 100 == 2);
        exchanges.json(exchange, 200, body);
    }
}
