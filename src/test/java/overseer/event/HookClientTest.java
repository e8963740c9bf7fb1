package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The webhook client against a real HTTP server: bodies of each kind, connection reuse, timeouts. */
class HookClientTest {
    @Test
    void readsEachKindOfResponseAndReusesItsConnection() throws Exception {
        List<Integer> clientPorts = new CopyOnWriteArrayList<>();
        List<String> bodies = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.createContext("/", exchange -> {
            clientPorts.add(exchange.getRemoteAddress().getPort());
            bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
                    + " " + exchange.getRequestHeaders().getFirst("webhook-id")
                    + " " + exchange.getRequestURI());
            switch (exchange.getRequestURI().getPath()) {
                case "/chunked" -> {
                    exchange.sendResponseHeaders(202, 0);
                    exchange.getResponseBody().write("a body of unknown length".getBytes());
                }
                case "/empty" -> exchange.sendResponseHeaders(204, -1);
                default -> {
                    byte[] b = "{\"ok\":true}".getBytes();
                    exchange.sendResponseHeaders(500, b.length);
                    exchange.getResponseBody().write(b);
                }
            }
            exchange.close();
        });
        server.start();
        try (HookClient client = new HookClient(Duration.ofSeconds(5))) {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Map<String, String> headers = Map.of("webhook-id", "msg_1");
            assertThat(client.post(URI.create(base + "/chunked?x=1"), headers, "one".getBytes()))
                    .isEqualTo(202);
            assertThat(client.post(URI.create(base + "/empty"), headers, "two".getBytes()))
                    .isEqualTo(204);
            assertThat(client.post(URI.create(base + "/fixed"), headers, "three".getBytes()))
                    .isEqualTo(500);
            assertThat(bodies).containsExactly("one msg_1 /chunked?x=1", "two msg_1 /empty", "three msg_1 /fixed");
            assertThat(clientPorts.stream().distinct()).hasSize(1);
            // The receiver restarts on the same port: the pooled connection is dead, a new one is made.
            int port = server.getAddress().getPort();
            server.stop(0);
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 10);
            server.createContext("/", exchange -> {
                exchange.getRequestBody().readAllBytes();
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
            assertThat(client.post(URI.create(base + "/again"), headers, "four".getBytes()))
                    .isEqualTo(200);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aReceiverThatNeverAnswersTimesOutAndARefusedConnectionFails() throws Exception {
        try (ServerSocket silent = new ServerSocket(0);
                HookClient client = new HookClient(Duration.ofMillis(300))) {
            assertThatThrownBy(() -> client.post(
                            URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/"), Map.of(), new byte[0]))
                    .isInstanceOf(java.net.SocketTimeoutException.class);
            int closed;
            try (ServerSocket s = new ServerSocket(0)) {
                closed = s.getLocalPort();
            }
            assertThatThrownBy(() -> client.post(URI.create("http://127.0.0.1:" + closed + "/"), Map.of(), new byte[0]))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void anAnswerTrickledByteByByteFailsAtTheDeadlineOfTheWholeExchange() throws Exception {
        try (overseer.testing.TricklingReceiver slow =
                        overseer.testing.TricklingReceiver.start(Duration.ofMillis(100));
                HookClient client = new HookClient(Duration.ofMillis(800))) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> client.post(URI.create(slow.url("/")), Map.of(), "x".getBytes()))
                    .isInstanceOf(java.net.SocketTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isBetween(Duration.ofMillis(700), Duration.ofSeconds(3));
        }
    }

    @Test
    void aUrlWithAPortOutOfRangeIsAnIOExceptionNotAnUncheckedOne() throws Exception {
        try (HookClient client = new HookClient(Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> client.post(URI.create("http://h:70000/"), Map.of(), new byte[0]))
                    .isInstanceOf(IOException.class);
        }
    }
}
