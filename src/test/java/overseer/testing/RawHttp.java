package overseer.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** HTTP/1.1 written by hand, for requests the JDK client refuses to make (a foreign Host header). */
public final class RawHttp {
    private RawHttp() {}

    /** Sends {@code head} (request line and headers, CRLF-separated, without the blank line) and a body; returns the status. */
    public static int status(int port, String head, String body) throws IOException {
        return Integer.parseInt(exchange(port, head, body).split(" ", 3)[1]);
    }

    /** The whole response as text (the server closes the connection: {@code Connection: close}). */
    public static String exchange(int port, String head, String body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            byte[] content = body.getBytes(StandardCharsets.UTF_8);
            String request = head + "\r\nConnection: close\r\nContent-Length: " + content.length + "\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().write(content);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    /** Sends {@code request} exactly as given (head, blank line and body) and returns the whole response. */
    public static String verbatim(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            socket.getInputStream().transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
