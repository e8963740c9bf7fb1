package overseer.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import overseer.job.Problem;

/**
 * The names a revision's tree may hold. Git's own commands never make an entry named {@code .},
 * {@code ..} or {@code .git}, or one with a slash or NUL in it, but a crafted commit can; such a
 * name could write outside the checkout or into a repository, so the revision is rejected. So is a
 * name the disk would refuse (over 255 bytes, a path over {@link #MAX_PATH_BYTES}, bytes this
 * server's file-name encoding cannot write): a revision that validates must also check out. Two
 * paths that differ only in case are rejected too where they matter (job files, {@code bin/},
 * {@code scripts/}): on a case-insensitive disk only one of them would exist.
 */
final class TreeNames {
    private static final Set<String> FORBIDDEN = Set.of(".", "..", ".git");
    /** NAME_MAX of Linux file systems. */
    static final int MAX_NAME_BYTES = 255;
    /** PATH_MAX (4096) less a quarter kept for the checkout's own directory in the data directory. */
    static final int MAX_PATH_BYTES = 3072;

    private TreeNames() {}

    static List<Problem> problems(Iterable<String> paths, UnaryOperator<String> display) {
        List<Problem> problems = new ArrayList<>();
        Map<String, String> folded = new HashMap<>();
        for (String path : paths) {
            Optional<String> refused = refusal(path);
            if (refused.isPresent()) {
                problems.add(new Problem(printable(display.apply(path)), 1, 1, refused.get()));
                continue;
            }
            if (matters(path)) {
                String earlier = folded.putIfAbsent(path.toLowerCase(Locale.ROOT), path);
                if (earlier != null) {
                    problems.add(new Problem(
                            printable(display.apply(path)),
                            1,
                            1,
                            "differs from " + printable(earlier) + " only in case; rename one of them"));
                }
            }
        }
        return problems;
    }

    /** Why no checkout could hold {@code path}, if it cannot. */
    private static Optional<String> refusal(String path) {
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()
                    || FORBIDDEN.contains(segment.toLowerCase(Locale.ROOT))
                    || segment.indexOf('\0') >= 0
                    || segment.indexOf('\\') >= 0) {
                return Optional.of(
                        "the tree holds an entry named '" + printable(segment) + "', which no checkout may have");
            }
            int bytes = segment.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_NAME_BYTES) {
                return Optional.of("name is " + bytes + " bytes; a checkout allows at most " + MAX_NAME_BYTES);
            }
        }
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PATH_BYTES) {
            return Optional.of("path is " + bytes + " bytes; a checkout allows at most " + MAX_PATH_BYTES);
        }
        try {
            Path.of(path);
        } catch (InvalidPathException e) {
            // The JVM writes names in the locale's encoding (sun.jnu.encoding); under C/POSIX
            // that is ASCII, and a name outside it cannot be created at all.
            return Optional.of("name cannot be written to this server's disk: " + e.getReason()
                    + " (run the server in a UTF-8 locale)");
        }
        return Optional.empty();
    }

    private static boolean matters(String path) {
        return path.startsWith("bin/")
                || path.startsWith("scripts/")
                || path.endsWith(".yml")
                || path.endsWith(".yaml")
                || path.endsWith(".json");
    }

    /** A name from a crafted tree may hold control characters: a problem shows them as {@code ?}. */
    static String printable(String text) {
        return text.replaceAll("\\p{Cntrl}", "?");
    }
}
