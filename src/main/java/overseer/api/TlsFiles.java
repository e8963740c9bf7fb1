package overseer.api;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS from PEM files: {@code --tls-cert} (the certificate chain), {@code --tls-key} (a PKCS#8
 * private key, RSA or EC) and optionally {@code --tls-client-ca} (the CA that client certificates
 * must chain to). The certificate and key are read again when either file changes (looked at no
 * more than once a second, at a handshake), so a renewed certificate is served without a restart;
 * a pair that does not load is logged and the previous one stays.
 */
public final class TlsFiles {
    private static final Logger log = LoggerFactory.getLogger(TlsFiles.class);
    private static final Pattern PEM =
            Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private TlsFiles() {}

    /** A server context for TLS 1.2 and 1.3, its key and certificate reloaded when they change. */
    public static SSLContext serverContext(Path cert, Path key, Optional<Path> clientCa)
            throws IOException, GeneralSecurityException {
        Reloading keys = new Reloading(cert, key);
        javax.net.ssl.TrustManager[] trust = null;
        if (clientCa.isPresent()) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int i = 0;
            for (Certificate c : certificates(clientCa.get())) {
                store.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            trust = factory.getTrustManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new javax.net.ssl.KeyManager[] {keys}, trust, null);
        return context;
    }

    /** The certificates of a PEM file, in order. */
    public static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        return List.copyOf(factory.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))));
    }

    /** A PKCS#8 private key ({@code BEGIN PRIVATE KEY}), RSA or EC. */
    public static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PRIVATE KEY")) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                    } catch (GeneralSecurityException wrongAlgorithm) {
                        // Try the next.
                    }
                }
                throw new GeneralSecurityException(file + ": the key is neither RSA, EC nor Ed25519");
            }
            if (m.group(1).endsWith("PRIVATE KEY")) {
                throw new GeneralSecurityException(file + ": '" + m.group(1) + "' keys are not read; convert it with"
                        + " 'openssl pkcs8 -topk8 -nocrypt -in " + file.getFileName() + "'");
            }
        }
        throw new GeneralSecurityException(file + ": no '-----BEGIN PRIVATE KEY-----' block");
    }

    private static X509KeyManager keyManager(Path cert, Path key) throws IOException, GeneralSecurityException {
        List<Certificate> chain = certificates(cert);
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(cert + ": no certificate");
        }
        PrivateKey privateKey = privateKey(key);
        requireMatch(privateKey, chain.getFirst(), cert, key);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("server", privateKey, password, chain.toArray(Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return (X509KeyManager) factory.getKeyManagers()[0];
    }

    /**
     * The key signs and the certificate's public key verifies: a renewal that replaced one file and
     * not yet the other (or a wrong pair) is refused instead of failing every handshake.
     */
    private static void requireMatch(PrivateKey privateKey, Certificate leaf, Path cert, Path key)
            throws GeneralSecurityException {
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> privateKey.getAlgorithm(); // Ed25519, EdDSA
        };
        byte[] probe = "overseer: does this key belong to this certificate?".getBytes(StandardCharsets.US_ASCII);
        boolean matches;
        try {
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            matches = verifier.verify(signature);
        } catch (java.security.InvalidKeyException | java.security.SignatureException e) {
            matches = false; // an EC key against an RSA certificate, say
        }
        if (!matches) {
            throw new GeneralSecurityException(key + " does not match the certificate in " + cert);
        }
    }

    /** The server's key manager, read again when the files change. */
    private static final class Reloading extends X509ExtendedKeyManager {
        private final Path cert;
        private final Path key;
        private volatile X509KeyManager current;
        private volatile List<Object> version;
        private volatile long checkedAt = System.nanoTime();

        Reloading(Path cert, Path key) throws IOException, GeneralSecurityException {
            this.cert = cert;
            this.key = key;
            this.version = version();
            this.current = keyManager(cert, key);
        }

        private List<Object> version() throws IOException {
            return List.of(
                    Files.getLastModifiedTime(cert), Files.size(cert), Files.getLastModifiedTime(key), Files.size(key));
        }

        private X509KeyManager current() {
            long now = System.nanoTime();
            if (now - checkedAt > 1_000_000_000L) {
                synchronized (this) {
                    if (now - checkedAt > 1_000_000_000L) {
                        checkedAt = now;
                        try {
                            List<Object> seen = version();
                            if (!seen.equals(version)) {
                                version = seen;
                                current = keyManager(cert, key);
                                log.info("api: TLS certificate re-read from {}", cert);
                            }
                        } catch (IOException | GeneralSecurityException e) {
                            log.error("api: the changed TLS certificate or key is not used: {}", e.getMessage());
                        }
                    }
                }
            }
            return current;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return current().getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return current().chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return current().getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return current().chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            X509KeyManager km = current();
            return km instanceof X509ExtendedKeyManager e
                    ? e.chooseEngineServerAlias(keyType, issuers, engine)
                    : km.chooseServerAlias(keyType, issuers, null);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return current().getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return current().getPrivateKey(alias);
        }
    }
}
