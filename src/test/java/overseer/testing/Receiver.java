package overseer.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * A real webhook receiver on 127.0.0.1: records every request and answers with the statuses it
 * is given, in order (then 200). It can be stopped and started again on the same port, as a
 * receiver that goes down and comes back.
 */
public final class Receiver implements AutoCloseable {
    /** One request as received. */
    public record Request(Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase());
        }
    }

    private final int port;
    private final List<Request> received = java.util.Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentLinkedQueue<Integer> answers = new ConcurrentLinkedQueue<>();
    private volatile java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(0);
    private HttpServer server;

    private Receiver(int port) {
        this.port = port;
    }

    public static Receiver start() throws IOException {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Receiver r = new Receiver(port);
        r.up();
        return r;
    }

    /** A receiver that is down now; {@link #up()} starts it on its port. */
    public static Receiver down() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return new Receiver(socket.getLocalPort());
        }
    }

    public synchronized void up() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = new java.util.HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.getFirst()));
            Integer status = answers.poll();
            received.add(new Request(headers, new String(body, StandardCharsets.UTF_8)));
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(status == null ? 200 : status, -1);
            exchange.close();
        });
        server.start();
    }

    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Answers the next requests with these statuses, in order. */
    public Receiver answer(Integer... statuses) {
        answers.addAll(List.of(statuses));
        return this;
    }

    /**
     * Holds every request from now on (recorded on arrival, answered only once {@code release} is
     * counted down): a receiver that is slow, for as long as the test wants.
     */
    public Receiver holdUntil(java.util.concurrent.CountDownLatch release) {
        hold = release;
        return this;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public List<Request> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** Waits until the received requests satisfy {@code condition}; returns them. */
    public List<Request> await(Predicate<List<Request>> condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            List<Request> now = received();
            if (condition.test(now)) {
                return now;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the receiver did not get what was expected in " + limit + "; it got " + received());
    }

    @Override
    public void close() {
        stop();
    }
}
