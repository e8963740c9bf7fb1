package overseer.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bearer tokens of the {@code --tokens} file: one {@code <role> <token> [label]} line per
 * token, {@code #} comments. Lookup compares against every token in constant time, so neither
 * timing nor the position of a match says anything about a token. The file is read again when it
 * changes (looked at no more than once a second, on use): a removed token stops working within a
 * second, without a restart. A changed file that does not parse is refused with a log line, and
 * the tokens read before stay in force.
 */
public final class Tokens {
    private static final Logger log = LoggerFactory.getLogger(Tokens.class);
    private static final long CHECK_NANOS = 1_000_000_000L;

    /** Who called: the token's role and its label (the role's name when the line has none). */
    public record Caller(Role role, String label) {}

    private record Entry(Role role, byte[] token, String label) {}

    private record Loaded(List<Entry> entries, Object version) {}

    private final Path file;
    private volatile Loaded loaded;
    private volatile long checkedAt;
    /** The version of the file that failed to parse, so that it is reported once. */
    private volatile Object failed;

    private Tokens(Path file, Loaded loaded) {
        this.file = file;
        this.loaded = loaded;
        this.checkedAt = System.nanoTime();
    }

    public static Tokens load(Path file) throws IOException {
        return new Tokens(file, read(file));
    }

    private static Loaded read(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        Object version =
                List.of(attributes.lastModifiedTime(), attributes.size(), String.valueOf(attributes.fileKey()));
        List<Entry> entries = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+", 3);
            Optional<Role> role = parts.length >= 2 ? roleOf(parts[0]) : Optional.empty();
            if (role.isEmpty() || parts[1].length() < 16) {
                throw new IOException(
                        file + ":" + (i + 1) + ": expected '<read|trigger|admin> <token of 16+ characters> [label]'");
            }
            Integer earlier = seen.putIfAbsent(parts[1], i + 1);
            if (earlier != null) {
                throw new IOException(file + ":" + (i + 1) + ": this token is already listed on line " + earlier
                        + "; give each role its own token");
            }
            String label = parts.length == 3
                    ? parts[2].strip().replaceAll("\\p{Cntrl}", "?")
                    : role.get().name().toLowerCase(Locale.ROOT);
            entries.add(new Entry(role.get(), parts[1].getBytes(StandardCharsets.UTF_8), label));
        }
        if (entries.isEmpty()) {
            throw new IOException(file + ": no tokens");
        }
        return new Loaded(List.copyOf(entries), version);
    }

    /** The caller that {@code token} identifies, if it is one of ours. */
    public Optional<Caller> callerOf(byte[] token) {
        Entry found = null;
        for (Entry e : current().entries()) {
            if (MessageDigest.isEqual(e.token(), token)) {
                found = e;
            }
        }
        return found == null ? Optional.empty() : Optional.of(new Caller(found.role(), found.label()));
    }

    /** The role of {@code token}, if it is one of ours. */
    public Optional<Role> roleOf(byte[] token) {
        return callerOf(token).map(Caller::role);
    }

    private Loaded current() {
        long now = System.nanoTime();
        if (now - checkedAt < CHECK_NANOS) {
            return loaded;
        }
        synchronized (this) {
            if (now - checkedAt >= CHECK_NANOS) {
                checkedAt = now;
                try {
                    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    Object version = List.of(
                            attributes.lastModifiedTime(), attributes.size(), String.valueOf(attributes.fileKey()));
                    if (!version.equals(loaded.version()) && !version.equals(failed)) {
                        try {
                            loaded = read(file);
                            log.info(
                                    "api: tokens re-read from {}: {} token(s)",
                                    file,
                                    loaded.entries().size());
                        } catch (IOException e) {
                            failed = version;
                            throw e;
                        }
                    }
                } catch (IOException e) {
                    log.error("api: the changed tokens file is not used, the previous tokens stay: {}", e.getMessage());
                }
            }
            return loaded;
        }
    }

    private static Optional<Role> roleOf(String name) {
        try {
            return Optional.of(Role.valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
