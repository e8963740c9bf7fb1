package overseer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A receiver that never finishes answering: it reads each request's head, then sends the start of
 * a header one byte every {@code interval}, forever, so that no single read ever waits long.
 */
public final class TricklingReceiver implements AutoCloseable {
    private final ServerSocket server;
    private final Duration interval;
    private final AtomicInteger requests = new AtomicInteger();

    private TricklingReceiver(Duration interval) throws IOException {
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        this.interval = interval;
        Thread.ofVirtual().name("trickling-receiver").start(this::accept);
    }

    public static TricklingReceiver start(Duration interval) throws IOException {
        return new TricklingReceiver(interval);
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getLocalPort() + path;
    }

    /** How many requests have arrived (each is being trickled an answer, or was given up by the client). */
    public int requests() {
        return requests.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> trickle(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void trickle(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            // The end of the request head is enough: the body is not read, the answer never ends.
            int matched = 0;
            byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            int b;
            while (matched < end.length && (b = in.read()) >= 0) {
                matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
            }
            requests.incrementAndGet();
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (!s.isClosed()) {
                Thread.sleep(interval);
                out.write('a');
                out.flush();
            }
        } catch (IOException | InterruptedException gone) {
            // The client gave up, or the receiver is closing.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
