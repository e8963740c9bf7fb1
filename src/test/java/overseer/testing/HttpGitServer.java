package overseer.testing;

import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.PacketLineOut;
import org.eclipse.jgit.transport.RefAdvertiser;
import org.eclipse.jgit.transport.UploadPack;

/**
 * A Git smart-HTTP server on loopback (Undertow and JGit's upload-pack) that serves one repository
 * to clients whose Basic password is the expected token, like a Git host with access tokens.
 */
public final class HttpGitServer implements AutoCloseable {
    private final Undertow server;
    private final Repository repository;
    private final AtomicInteger refused = new AtomicInteger();

    public HttpGitServer(Path repoDir, String token) throws IOException {
        this.repository =
                new FileRepositoryBuilder().setWorkTree(repoDir.toFile()).build();
        this.server = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    if (exchange.isInIoThread()) {
                        exchange.dispatch(() -> {
                            try {
                                handle(exchange, token);
                            } catch (IOException | RuntimeException e) {
                                exchange.setStatusCode(500);
                                exchange.endExchange();
                            }
                        });
                        return;
                    }
                    handle(exchange, token);
                })
                .build();
        server.start();
    }

    private void handle(HttpServerExchange exchange, String expected) throws IOException {
        String auth = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        String password = auth != null && auth.startsWith("Basic ")
                ? new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8)
                        .replaceFirst("^[^:]*:", "")
                : null;
        if (!expected.equals(password)) {
            refused.incrementAndGet();
            exchange.setStatusCode(401);
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Basic realm=\"git\"");
            exchange.endExchange();
            return;
        }
        exchange.startBlocking();
        UploadPack pack = new UploadPack(repository);
        pack.setBiDirectionalPipe(false);
        if (exchange.getRequestPath().endsWith("/info/refs")) {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-git-upload-pack-advertisement");
            PacketLineOut out = new PacketLineOut(exchange.getOutputStream());
            out.writeString("# service=git-upload-pack\n");
            out.end();
            pack.sendAdvertisedRefs(new RefAdvertiser.PacketLineOutRefAdvertiser(out));
        } else {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-git-upload-pack-result");
            InputStream in = exchange.getInputStream();
            if ("gzip".equals(exchange.getRequestHeaders().getFirst(Headers.CONTENT_ENCODING))) {
                in = new GZIPInputStream(in);
            }
            pack.upload(in, exchange.getOutputStream(), null);
        }
        exchange.endExchange();
    }

    public String url() {
        return "http://127.0.0.1:"
                + ((InetSocketAddress) server.getListenerInfo().getFirst().getAddress()).getPort() + "/repo.git";
    }

    /** How many requests were turned away for a missing or wrong token. */
    public int refused() {
        return refused.get();
    }

    @Override
    public void close() {
        server.stop();
        repository.close();
    }
}
