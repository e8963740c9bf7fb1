package overseer.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The bearer tokens of the {@code --tokens} file: one {@code <role> <token>} pair per line,
 * {@code #} comments. Lookup compares against every token in constant time, so neither timing nor
 * the position of a match says anything about a token.
 */
public final class Tokens {
    private record Entry(Role role, byte[] token) {}

    private final List<Entry> entries;

    private Tokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static Tokens load(Path file) throws IOException {
        List<Entry> entries = new ArrayList<>();
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            Optional<Role> role = parts.length == 2 ? roleOf(parts[0]) : Optional.empty();
            if (role.isEmpty() || parts[1].length() < 16) {
                throw new IOException(
                        file + ":" + (i + 1) + ": expected '<read|trigger|admin> <token of 16+ characters>'");
            }
            Integer earlier = seen.putIfAbsent(parts[1], i + 1);
            if (earlier != null) {
                throw new IOException(file + ":" + (i + 1) + ": this token is already listed on line " + earlier
                        + "; give each role its own token");
            }
            entries.add(new Entry(role.get(), parts[1].getBytes(StandardCharsets.UTF_8)));
        }
        if (entries.isEmpty()) {
            throw new IOException(file + ": no tokens");
        }
        return new Tokens(entries);
    }

    /** The role of {@code token}, if it is one of ours. */
    public Optional<Role> roleOf(byte[] token) {
        Role found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.token(), token)) {
                found = e.role();
            }
        }
        return Optional.ofNullable(found);
    }

    private static Optional<Role> roleOf(String name) {
        try {
            return Optional.of(Role.valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
