package overseer.api;

import io.undertow.server.HttpServerExchange;
import java.util.Map;

/** One HTTP route: a function of the exchange and the path parameters. */
@FunctionalInterface
public interface Route {
    void handle(HttpServerExchange exchange, Map<String, String> params) throws Exception;
}
