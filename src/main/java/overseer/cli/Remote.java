package overseer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options and the HTTP client of the remote commands ({@code trigger}, {@code logs},
 * {@code status}, {@code jobs}, {@code signal}). Inside a job {@code OVERSEER_URL} is set, so they
 * talk to its own server without options.
 */
final class Remote implements AutoCloseable {
    /** A refusal or failure from the server, said in one line. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /** The picocli options every remote command takes. */
    static final class Options {
        @Option(
                names = "--server",
                defaultValue = "${env:OVERSEER_URL:-http://127.0.0.1:8080}",
                description = "the server's URL (env OVERSEER_URL)")
        String server;

        @Option(
                names = "--token",
                defaultValue = "${env:OVERSEER_TOKEN}",
                description = "a bearer token (env OVERSEER_TOKEN)")
        String token;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final Optional<String> token;
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    Remote(Options options) {
        this.base = options.server.replaceAll("/+$", "");
        this.token = Optional.ofNullable(options.token).filter(t -> !t.isBlank());
    }

    /**
     * Closes the HTTP client: without it the JVM's exit waits about 0.3 s for the client's
     * selector thread, which is most of a remote command's start-up budget.
     */
    @Override
    public void close() {
        client.close();
    }

    static String path(String... segments) {
        StringBuilder path = new StringBuilder();
        for (String s : segments) {
            path.append('/').append(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return path.toString();
    }

    static String form(List<String> params) throws Failure {
        StringBuilder body = new StringBuilder();
        for (String p : params) {
            int eq = p.indexOf('=');
            if (eq < 1) {
                throw new Failure("-p takes NAME=VALUE, got '" + p + "'");
            }
            if (!body.isEmpty()) {
                body.append('&');
            }
            body.append(URLEncoder.encode(p.substring(0, eq), StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(p.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return body.toString();
    }

    JsonNode get(String path) throws Failure {
        return json(send(request(path).GET()));
    }

    JsonNode postForm(String path, String form) throws Failure {
        return json(send(request(path)
                .header("Content-Type", "application/x-www-form-urlencoded")
                // Recorded as the execution's trigger: started from the command line.
                .header("Overseer-Trigger", "cli")
                .POST(HttpRequest.BodyPublishers.ofString(form))));
    }

    JsonNode putJson(String path, Map<String, Object> body) throws Failure {
        try {
            return json(send(request(path)
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Failure(e.getMessage());
        }
    }

    /** A streamed text resource (output), copied as it arrives. */
    void copy(String path, java.io.OutputStream out) throws Failure {
        HttpResponse<InputStream> r;
        try {
            r = client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
        try (InputStream in = r.body()) {
            if (r.statusCode() / 100 != 2) {
                throw problem(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            throw new Failure("the output stream broke off: " + e.getMessage());
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Failure {
        try {
            HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw problem(r.statusCode(), r.body());
            }
            return r;
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
    }

    private Failure unreachable(IOException e) {
        return new Failure("cannot reach " + base + ": "
                + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }

    /** The server's problem detail as one line. */
    private static Failure problem(int status, String body) {
        String detail;
        try {
            JsonNode p = JSON.readTree(body);
            detail = p.path("detail").asText(p.path("title").asText(""));
        } catch (IOException notJson) {
            detail = body;
        }
        return new Failure(status + ": " + detail.replaceAll("\\s+", " ").strip());
    }

    private static JsonNode json(HttpResponse<String> r) throws Failure {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new Failure("the server's answer is not JSON");
        }
    }
}
