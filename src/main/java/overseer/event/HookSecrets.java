package overseer.event;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Hook signing secrets, read from the server's environment by the variable a hook names. A
 * {@code whsec_} secret is base64 (the Standard Webhooks form); any other is used as its bytes.
 */
public final class HookSecrets {
    private static final String PREFIX = "whsec_";

    private final Map<String, String> environment;

    public HookSecrets(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    public boolean has(String variable) {
        String value = environment.get(variable);
        return value != null && !value.isEmpty();
    }

    /** The key bytes of the secret in {@code variable}, if it is set. */
    public Optional<byte[]> key(String variable) {
        String value = environment.get(variable);
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        if (value.startsWith(PREFIX)) {
            try {
                byte[] key = Base64.getDecoder().decode(value.substring(PREFIX.length()));
                if (key.length > 0) {
                    return Optional.of(key);
                }
            } catch (IllegalArgumentException notBase64) {
                // Not the Standard Webhooks form after all: use it as it is.
            }
        }
        return Optional.of(value.getBytes(StandardCharsets.UTF_8));
    }
}
