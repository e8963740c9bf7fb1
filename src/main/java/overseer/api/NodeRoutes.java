package overseer.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import overseer.store.ClusterNode;
import overseer.store.Store;

/** {@code GET /nodes}: the servers of the cluster as the database sees them (admin). */
public final class NodeRoutes {
    private final Store store;
    private final Exchanges exchanges;

    public NodeRoutes(Store store, Exchanges exchanges) {
        this.store = store;
        this.exchanges = exchanges;
    }

    public void register(Router router) {
        router.add("GET", "/nodes", new Router.Access.Token(Role.ADMIN), (exchange, params) -> {
            String self = store.nodeId();
            List<Map<String, Object>> nodes = new ArrayList<>();
            for (ClusterNode n : store.nodes()) {
                Map<String, Object> node = new LinkedHashMap<>();
                node.put("id", n.id());
                node.put("url", n.url().orElse(null));
                node.put("host", n.host());
                node.put("version", n.version());
                node.put("labels", n.labels());
                node.put("started_at", n.startedAt().toString());
                node.put("heartbeat_age_ms", n.heartbeatAge().toMillis());
                node.put("lease_until", n.leaseUntil().toString());
                node.put("state", n.state().word());
                node.put("running", n.running());
                node.put("claimed_deliveries", n.claimedDeliveries());
                node.put("self", n.id().equals(self));
                nodes.add(node);
            }
            // Queued executions no live node may claim, and why: they wait, they do not fail.
            List<Map<String, Object>> waiting = new ArrayList<>();
            List<ClusterNode> all = store.nodes();
            store.queuedNeeding()
                    .forEach((labels, count) -> ClusterNode.unplaced(all, labels)
                            .ifPresent(why -> {
                                Map<String, Object> w = new LinkedHashMap<>();
                                w.put("labels", labels);
                                w.put("queued", count);
                                w.put("reason", why);
                                waiting.add(w);
                            }));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("self", self);
            body.put("nodes", nodes);
            body.put("waiting", waiting);
            exchanges.json(exchange, 200, body);
        });
    }
}
