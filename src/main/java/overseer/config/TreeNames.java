package overseer.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import overseer.job.Problem;

/**
 * The names a revision's tree may hold. Git's own commands never make an entry named {@code .},
 * {@code ..} or {@code .git}, or one with a slash or NUL in it, but a crafted commit can; such a
 * name could write outside the checkout or into a repository, so the revision is rejected. Two
 * paths that differ only in case are rejected too where they matter (job files, {@code bin/},
 * {@code scripts/}): on a case-insensitive disk only one of them would exist.
 */
final class TreeNames {
    private static final Set<String> FORBIDDEN = Set.of(".", "..", ".git");

    private TreeNames() {}

    static List<Problem> problems(Iterable<String> paths, UnaryOperator<String> display) {
        List<Problem> problems = new ArrayList<>();
        Map<String, String> folded = new HashMap<>();
        for (String path : paths) {
            String bad = null;
            for (String segment : path.split("/", -1)) {
                if (segment.isEmpty()
                        || FORBIDDEN.contains(segment.toLowerCase(Locale.ROOT))
                        || segment.indexOf('\0') >= 0
                        || segment.indexOf('\\') >= 0) {
                    bad = segment;
                    break;
                }
            }
            if (bad != null) {
                problems.add(new Problem(
                        printable(display.apply(path)),
                        1,
                        1,
                        "the tree holds an entry named '" + printable(bad) + "', which no checkout may have"));
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

    private static boolean matters(String path) {
        return path.startsWith("bin/")
                || path.startsWith("scripts/")
                || path.endsWith(".yml")
                || path.endsWith(".yaml")
                || path.endsWith(".json");
    }

    private static String printable(String text) {
        return text.replaceAll("\\p{Cntrl}", "?");
    }
}
