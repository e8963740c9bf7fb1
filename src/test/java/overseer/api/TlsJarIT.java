package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.TestRepo;

/**
 * HTTPS with mutual TLS, against the packaged jar, with a CA, server and client certificates made
 * here by openssl: a client without a certificate is refused at the handshake, and a renewed
 * server certificate is served without a restart.
 */
class TlsJarIT {
    @TempDir
    Path tmp;

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .directory(tmp.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    /** A key and a certificate signed by the test CA. */
    private void issue(String name, String subject, String extension) throws Exception {
        openssl(
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                name + ".key",
                "-out",
                name + ".csr",
                "-subj",
                subject);
        Files.writeString(tmp.resolve(name + ".ext"), extension + "\n");
        openssl(
                "x509",
                "-req",
                "-in",
                name + ".csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                name + ".pem",
                "-days",
                "2",
                "-extfile",
                name + ".ext");
    }

    private HttpClient client(boolean withCertificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(
                "ca", TlsFiles.certificates(tmp.resolve("ca.pem")).getFirst());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (withCertificate) {
            keys.setKeyEntry(
                    "client",
                    TlsFiles.privateKey(tmp.resolve("client.key")),
                    new char[0],
                    TlsFiles.certificates(tmp.resolve("client.pem")).toArray(Certificate[]::new));
        }
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder()
                .sslContext(context)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @Test
    void mutualTlsRefusesClientsWithoutACertificateAndServesARenewedCertificateWithoutARestart() throws Exception {
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Overseer Test CA");
        issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1");
        issue("client", "/CN=ci-client", "extendedKeyUsage=clientAuth");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (TestRepo repo = TestRepo.create(tmp.resolve("repo"))) {
            repo.with("hello.yml", "command: echo hello\n").commit("jobs");
            Process server = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-jar",
                            Path.of("target/overseer.jar").toAbsolutePath().toString(),
                            "serve",
                            "--repo",
                            repo.url(),
                            "--data",
                            tmp.resolve("data").toString(),
                            "--listen",
                            "127.0.0.1:" + port,
                            "--tls-cert",
                            tmp.resolve("server.pem").toString(),
                            "--tls-key",
                            tmp.resolve("server.key").toString(),
                            "--tls-client-ca",
                            tmp.resolve("ca.pem").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("server.log").toFile())
                    .start();
            try {
                URI health = URI.create("https://127.0.0.1:" + port + "/health");
                HttpResponse<String> ok = awaitUp(client(true), health);
                assertThat(ok.statusCode()).isEqualTo(200);
                X509Certificate first =
                        (X509Certificate) ok.sslSession().orElseThrow().getPeerCertificates()[0];
                assertThatThrownBy(() -> client(false)
                                .send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString()))
                        .isInstanceOf(IOException.class);
                // Renew the server certificate in place.
                issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1");
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                X509Certificate now = first;
                while (now.getSerialNumber().equals(first.getSerialNumber()) && System.nanoTime() < deadline) {
                    Thread.sleep(300);
                    HttpResponse<String> r = client(true)
                            .send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
                    now = (X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0];
                }
                assertThat(now.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
                assertThat(Files.readString(tmp.resolve("server.log"))).contains("TLS certificate re-read");
                // A key that does not belong to the certificate is not taken: the pair in use stays.
                openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.key");
                Files.copy(
                        tmp.resolve("other.key"),
                        tmp.resolve("server.key"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!Files.readString(tmp.resolve("server.log")).contains("is not used")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(300);
                    try {
                        client(true).send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
                    } catch (IOException handshakeFailed) {
                        // Without the check, the mismatched pair is served and handshakes fail.
                    }
                }
                assertThat(Files.readString(tmp.resolve("server.log")))
                        .contains("the changed TLS certificate or key is not used")
                        .contains("does not match");
                HttpResponse<String> still =
                        client(true).send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(((X509Certificate) still.sslSession().orElseThrow().getPeerCertificates()[0])
                                .getSerialNumber())
                        .isEqualTo(now.getSerialNumber());
            } finally {
                server.destroy();
                server.waitFor();
            }
        }
    }

    private static HttpResponse<String> awaitUp(HttpClient client, URI uri) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(200);
            }
        }
    }
}
