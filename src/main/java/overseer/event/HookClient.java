package overseer.event;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The HTTP/1.1 client webhooks are sent with: one blocking request per call, on the caller's
 * (virtual) thread, over kept-alive connections pooled per host. The JDK's asynchronous client was
 * the largest item of a delivery's CPU profile; a webhook needs only POST, a status and the body
 * read to its end so the connection can be used again. The timeout is a deadline for the whole
 * exchange (connect, send, the complete response): a receiver trickling its answer a byte at a
 * time cannot keep an attempt, and its slot, for longer.
 */
final class HookClient implements AutoCloseable {
    private static final int MAX_IDLE_PER_HOST = 16;
    private static final Duration MAX_IDLE = Duration.ofSeconds(30);
    private static final int MAX_LINE = 8192;
    private static final int MAX_HEADERS = 100;
    private static final long MAX_DRAINED_BODY = 1 << 20;

    private final Duration timeout;
    private final Map<String, Deque<Connection>> idle = new ConcurrentHashMap<>();
    /** Closes the socket of an exchange that passes its deadline; closing is what unblocks a read or write. */
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("webhook-deadlines").factory());

    private record Connection(Socket socket, InputStream in, OutputStream out, long idleSince) {}

    /** One call's deadline: once passed, the socket in use is closed, and the call fails with a timeout. */
    private final class Deadline implements AutoCloseable {
        private final long end = System.nanoTime() + timeout.toNanos();
        private final ScheduledFuture<?> alarm;
        private volatile Socket socket;
        private volatile boolean passed;

        Deadline() {
            alarm = deadlines.schedule(this::pass, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        /** The socket the call uses now; closed at once if the deadline has passed already. */
        void guard(Socket s) {
            socket = s;
            if (passed) {
                closeQuietly(s);
            }
        }

        int remainingMillis() {
            return (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
        }

        private void pass() {
            passed = true;
            Socket s = socket;
            if (s != null) {
                closeQuietly(s);
            }
        }

        /** What the call fails with: a timeout if the deadline closed the socket under it. */
        IOException failure(IOException e) {
            if (passed || e instanceof SocketTimeoutException) {
                SocketTimeoutException late =
                        new SocketTimeoutException("no complete answer within " + timeout.toMillis() + " ms");
                late.initCause(e);
                return late;
            }
            return e;
        }

        @Override
        public void close() {
            alarm.cancel(false);
        }
    }

    HookClient(Duration timeout) {
        this.timeout = timeout;
    }

    /** POSTs {@code body}; returns the response status once the response has been read. */
    int post(URI uri, Map<String, String> headers, byte[] body) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean tls = scheme.equals("https");
        if (!tls && !scheme.equals("http") || uri.getHost() == null) {
            throw new IOException("not an http(s) URL");
        }
        int port = uri.getPort() < 0 ? (tls ? 443 : 80) : uri.getPort();
        if (port < 1 || port > 65535) {
            // InetSocketAddress would throw an unchecked exception for it.
            throw new IOException("port " + port + " is out of range");
        }
        String key = scheme + "://" + uri.getHost() + ":" + port;
        byte[] request = request(uri, port, tls, headers, body);
        try (Deadline deadline = new Deadline()) {
            try {
                Connection reused = take(key);
                if (reused != null) {
                    deadline.guard(reused.socket());
                    try {
                        return exchange(key, reused, request);
                    } catch (IOException staleConnection) {
                        if (deadline.passed) {
                            throw staleConnection;
                        }
                        // The receiver closed an idle connection: try once on a new one.
                        close(reused);
                    }
                }
                return exchange(key, open(uri.getHost(), port, tls, deadline), request);
            } catch (IOException e) {
                throw deadline.failure(e);
            }
        }
    }

    private Connection take(String key) {
        Deque<Connection> pool = idle.get(key);
        long now = System.nanoTime();
        Connection c;
        while (pool != null && (c = pool.pollFirst()) != null) {
            if (now - c.idleSince() < MAX_IDLE.toNanos() && !c.socket().isClosed()) {
                return c;
            }
            close(c);
        }
        return null;
    }

    private Connection open(String host, int port, boolean tls, Deadline deadline) throws IOException {
        Socket socket = new Socket();
        deadline.guard(socket);
        try {
            socket.connect(new InetSocketAddress(host, port), deadline.remainingMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.setTcpNoDelay(true);
            if (tls) {
                SSLSocket ssl = (SSLSocket)
                        ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(socket, host, port, true);
                deadline.guard(ssl);
                SSLParameters parameters = ssl.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(parameters);
                ssl.startHandshake();
                socket = ssl;
            }
            return new Connection(
                    socket, new BufferedInputStream(socket.getInputStream(), 8192), socket.getOutputStream(), 0);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private int exchange(String key, Connection c, byte[] request) throws IOException {
        boolean keep = false;
        try {
            c.out().write(request);
            c.out().flush();
            int status;
            Map<String, String> headers;
            do {
                String statusLine = line(c.in());
                String[] parts = statusLine.split(" ", 3);
                if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                    throw new IOException("not an HTTP response: " + printable(statusLine));
                }
                status = Integer.parseInt(parts[1]);
                headers = headers(c.in());
                keep = parts[0].equals("HTTP/1.1");
            } while (status >= 100 && status < 200);
            String connection = headers.getOrDefault("connection", "");
            if (connection.equalsIgnoreCase("close")) {
                keep = false;
            }
            keep &= drain(c.in(), headers, status);
            return status;
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP response status");
        } finally {
            if (keep) {
                Deque<Connection> pool = idle.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>());
                if (pool.size() < MAX_IDLE_PER_HOST) {
                    pool.addFirst(new Connection(c.socket(), c.in(), c.out(), System.nanoTime()));
                } else {
                    close(c);
                }
            } else {
                close(c);
            }
        }
    }

    /** Reads the body to its end; false when the connection cannot be used again. */
    private static boolean drain(InputStream in, Map<String, String> headers, int status) throws IOException {
        if (status == 204 || status == 304) {
            return true;
        }
        if (headers.getOrDefault("transfer-encoding", "")
                .toLowerCase(Locale.ROOT)
                .contains("chunked")) {
            long total = 0;
            while (true) {
                String size = line(in);
                int semicolon = size.indexOf(';');
                long n = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
                if (n == 0) {
                    headers(in); // trailers
                    return true;
                }
                total += n;
                if (total > MAX_DRAINED_BODY) {
                    return false;
                }
                skip(in, n);
                line(in);
            }
        }
        String length = headers.get("content-length");
        if (length == null) {
            return false; // the body runs to the end of the connection
        }
        long n = Long.parseLong(length.strip());
        if (n > MAX_DRAINED_BODY) {
            return false;
        }
        skip(in, n);
        return true;
    }

    private static void skip(InputStream in, long n) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException("the response ended early");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static Map<String, String> headers(InputStream in) throws IOException {
        Map<String, String> headers = new java.util.HashMap<>();
        for (int i = 0; i < MAX_HEADERS; i++) {
            String line = line(in);
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(
                        line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).strip());
            }
        }
        throw new IOException("too many response headers");
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new IOException("response line too long");
            }
            line.append((char) b);
        }
        throw new IOException("the receiver closed the connection");
    }

    private static byte[] request(URI uri, int port, boolean tls, Map<String, String> headers, byte[] body) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[")
                ? "[" + uri.getHost() + "]"
                : uri.getHost();
        boolean defaultPort = port == (tls ? 443 : 80);
        StringBuilder head = new StringBuilder("POST ")
                .append(path)
                .append(" HTTP/1.1\r\nHost: ")
                .append(host)
                .append(defaultPort ? "" : ":" + port)
                .append("\r\nContent-Length: ")
                .append(body.length)
                .append("\r\n");
        if (uri.getRawUserInfo() != null) {
            head.append("Authorization: Basic ")
                    .append(java.util.Base64.getEncoder()
                            .encodeToString(java.net.URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8)
                                    .getBytes(StandardCharsets.UTF_8)))
                    .append("\r\n");
        }
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    private static String printable(String text) {
        String cut = text.length() > 80 ? text.substring(0, 80) : text;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    private static void close(Connection c) {
        closeQuietly(c.socket());
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing: nothing more to do.
        }
    }

    @Override
    public void close() {
        deadlines.shutdownNow();
        idle.values().forEach(pool -> pool.forEach(HookClient::close));
        idle.clear();
    }
}
