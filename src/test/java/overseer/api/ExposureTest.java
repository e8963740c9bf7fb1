package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.RawHttp;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Cross-site requests, DNS rebinding and slow clients, against the real server over real sockets. */
class ExposureTest {
    @TempDir
    Path tmp;

    TestRepo repo;
    TestServer server;

    private void serve(HttpApi.Exposure exposure) throws Exception {
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.with("envdump.yml", "command: env\n").commit("jobs");
        server = TestServer.on(repo.url(), tmp.resolve("data"))
                .exposure(exposure)
                .start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (repo != null) {
            repo.close();
        }
    }

    private int port() {
        return server.uri("/").getPort();
    }

    @Test
    void aForeignOriginCannotTriggerOrSyncAndAForeignHostIsMisdirected() throws Exception {
        serve(HttpApi.Exposure.defaults(List.of("overseer.internal")));
        int p = port();
        String form = "Content-Type: application/x-www-form-urlencoded";
        assertThat(RawHttp.status(
                        p,
                        "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: http://evil.example\r\n"
                                + form,
                        ""))
                .isEqualTo(403);
        assertThat(RawHttp.status(
                        p,
                        "POST /config/sync HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: http://evil.example",
                        ""))
                .isEqualTo(403);
        assertThat(RawHttp.status(
                        p,
                        "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nSec-Fetch-Site: cross-site\r\n"
                                + form,
                        ""))
                .isEqualTo(403);
        assertThat(RawHttp.status(
                        p, "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: null\r\n" + form, ""))
                .isEqualTo(403);
        // Another port on the same host is another origin.
        assertThat(RawHttp.status(
                        p,
                        "PUT /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: http://127.0.0.1:1\r\n"
                                + form,
                        ""))
                .isEqualTo(403);
        // Another scheme on the same host and port is another origin too.
        assertThat(RawHttp.status(
                        p,
                        "PUT /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: https://127.0.0.1:" + p
                                + "\r\n" + form,
                        ""))
                .isEqualTo(403);
        assertThat(RawHttp.status(
                        p,
                        "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: ftp://127.0.0.1:" + p
                                + "\r\n" + form,
                        ""))
                .isEqualTo(403);
        assertThat(server.json("/jobs/envdump/executions").size()).isZero();
        // DNS rebinding: the page's own name reaches the loopback server.
        assertThat(RawHttp.exchange(p, "GET /jobs HTTP/1.1\r\nHost: evil.example:" + p, ""))
                .startsWith("HTTP/1.1 421 Misdirected Request\r\n");
        assertThat(RawHttp.status(p, "POST /jobs/envdump HTTP/1.1\r\nHost: evil.example:" + p + "\r\n" + form, ""))
                .isEqualTo(421);
        // The server's own names, and the same origin, work.
        assertThat(RawHttp.status(p, "GET /jobs HTTP/1.1\r\nHost: localhost:" + p, ""))
                .isEqualTo(200);
        assertThat(RawHttp.status(p, "GET /jobs HTTP/1.1\r\nHost: overseer.internal:" + p, ""))
                .isEqualTo(200);
        assertThat(RawHttp.status(p, "GET /health HTTP/1.1\r\nHost: [::1]:" + p, ""))
                .isEqualTo(200);
        assertThat(RawHttp.status(
                        p,
                        "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: http://127.0.0.1:" + p
                                + "\r\nSec-Fetch-Site: same-origin\r\n" + form,
                        ""))
                .isEqualTo(201);
        assertThat(RawHttp.status(p, "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\n" + form, ""))
                .isEqualTo(201);
    }

    @Test
    void aMalformedChunkedBodyIsRefusedAndAnUnknownTransferCodingIs501() throws Exception {
        serve(HttpApi.Exposure.defaults(List.of()));
        int p = port();
        String head = "POST /jobs/envdump HTTP/1.1\r\nHost: 127.0.0.1:" + p
                + "\r\nConnection: close\r\nContent-Type: application/json\r\n";
        String badChunk = RawHttp.verbatim(p, head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        // Undertow's chunked decoder closes the connection on bad framing before an answer can be
        // sent; what matters is that it is never a 500 and never reaches a route.
        assertThat(badChunk)
                .satisfiesAnyOf(r -> assertThat(r).isEmpty(), r -> assertThat(r).startsWith("HTTP/1.1 400"));
        String layered = RawHttp.verbatim(p, head + "Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        assertThat(layered).startsWith("HTTP/1.1 501");
        String gzip = RawHttp.verbatim(p, head + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        assertThat(gzip).startsWith("HTTP/1.1 501");
        assertThat(server.json("/jobs/envdump/executions").size()).isZero();
        // A well-formed chunked body still works.
        String good = RawHttp.verbatim(p, head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        assertThat(good).startsWith("HTTP/1.1 201");
    }

    @Test
    void withATokensFileAnyHostIsAnsweredButForeignOriginsAreStillRefused() throws Exception {
        Path tokens = java.nio.file.Files.writeString(tmp.resolve("tokens"), "admin admin-token-0123456789\n");
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.with("envdump.yml", "command: env\n").commit("jobs");
        server = TestServer.on(repo.url(), tmp.resolve("data")).tokens(tokens).start();
        int p = port();
        String auth = "\r\nAuthorization: Bearer admin-token-0123456789";
        assertThat(RawHttp.status(p, "GET /jobs HTTP/1.1\r\nHost: 10.1.2.3:" + p + auth, ""))
                .isEqualTo(200);
        assertThat(RawHttp.status(
                        p,
                        "POST /jobs/envdump HTTP/1.1\r\nHost: 10.1.2.3:" + p + "\r\nOrigin: http://evil.example" + auth,
                        ""))
                .isEqualTo(403);
    }

    @Test
    void slowClientsAreCutOffAndHealthKeepsAnsweringWhileAFloodIsRefused() throws Exception {
        serve(new HttpApi.Exposure(List.of(), 50, Duration.ofMillis(500), Duration.ofSeconds(2)));
        int p = port();
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Socket s = new Socket("127.0.0.1", p);
                s.getOutputStream()
                        .write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a".getBytes(StandardCharsets.UTF_8));
                flood.add(s);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean healthy = false;
            while (!healthy && System.nanoTime() < deadline) {
                try {
                    healthy = server.send(HttpRequest.newBuilder(server.uri("/health"))
                                            .timeout(Duration.ofSeconds(3)))
                                    .statusCode()
                            == 200;
                } catch (IOException stillFlooded) {
                    // Not accepted yet.
                }
            }
            assertThat(healthy).isTrue();
            // The trickling connections were closed by the server, not left to hold descriptors.
            int closed = 0;
            for (Socket s : flood.subList(0, 50)) {
                s.setSoTimeout(5000);
                try {
                    // Whatever the server says first, it must then close: end of stream.
                    while (s.getInputStream().read() >= 0) {
                        // skip
                    }
                    closed++;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // Held open: counted as not closed.
                } catch (IOException reset) {
                    closed++;
                }
            }
            assertThat(closed).isEqualTo(50);
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
    }
}
