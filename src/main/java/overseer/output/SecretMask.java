package overseer.output;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Replaces secret values in a byte stream by {@code ***}, also when a value arrives split across
 * two reads: the bytes at the end of a read that could begin a secret are held back until the
 * next read (or the end) tells. One instance per stream; not thread-safe.
 */
public final class SecretMask {
    private static final byte[] MASK = "***".getBytes(StandardCharsets.UTF_8);

    private final List<byte[]> secrets;
    private byte[] carry = new byte[0];
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public SecretMask(List<String> secrets) {
        this.secrets = secrets.stream()
                .filter(s -> !s.isEmpty())
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .sorted((a, b) -> b.length - a.length)
                .toList();
    }

    public boolean active() {
        return !secrets.isEmpty();
    }

    /** The masked bytes that can be written now. */
    public byte[] apply(byte[] chunk, int length) {
        byte[] data = new byte[carry.length + length];
        System.arraycopy(carry, 0, data, 0, carry.length);
        System.arraycopy(chunk, 0, data, carry.length, length);
        out.reset();
        int i = 0;
        scan:
        while (i < data.length) {
            for (byte[] s : secrets) {
                if (matches(data, i, s, s.length)) {
                    out.writeBytes(MASK);
                    i += s.length;
                    continue scan;
                }
            }
            for (byte[] s : secrets) {
                int rest = data.length - i;
                if (rest < s.length && matches(data, i, s, rest)) {
                    break scan;
                }
            }
            out.write(data[i]);
            i++;
        }
        carry = Arrays.copyOfRange(data, i, data.length);
        return out.toByteArray();
    }

    /** What is held back, at the end of the stream. */
    public byte[] finish() {
        byte[] rest = carry;
        carry = new byte[0];
        return rest;
    }

    private static boolean matches(byte[] data, int at, byte[] secret, int length) {
        if (at + length > data.length) {
            return false;
        }
        for (int j = 0; j < length; j++) {
            if (data[at + j] != secret[j]) {
                return false;
            }
        }
        return true;
    }
}
