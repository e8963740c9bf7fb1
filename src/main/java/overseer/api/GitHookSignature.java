package overseer.api;

import io.undertow.util.HeaderMap;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks that a push webhook comes from the Git host that knows our secret: GitHub
 * ({@code X-Hub-Signature-256: sha256=<hex HMAC>}), Gitea ({@code X-Gitea-Signature: <hex HMAC>})
 * or GitLab ({@code X-Gitlab-Token: <secret>}). Every comparison is constant-time.
 */
final class GitHookSignature {
    private final byte[] secret;

    GitHookSignature(String secret) {
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
    }

    boolean verify(HeaderMap headers, byte[] body) {
        String github = headers.getFirst("X-Hub-Signature-256");
        if (github != null) {
            String value = github.strip().toLowerCase(Locale.ROOT);
            return value.startsWith("sha256=") && equal(value.substring(7), hmacHex(body));
        }
        String gitea = headers.getFirst("X-Gitea-Signature");
        if (gitea != null) {
            return equal(gitea.strip().toLowerCase(Locale.ROOT), hmacHex(body));
        }
        String gitlab = headers.getFirst("X-Gitlab-Token");
        if (gitlab != null) {
            return MessageDigest.isEqual(gitlab.getBytes(StandardCharsets.UTF_8), secret);
        }
        return false;
    }

    private String hmacHex(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }
}
