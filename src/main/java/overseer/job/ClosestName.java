package overseer.job;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/** Finds the known name closest to a misspelt one, for "did you mean" hints. */
public final class ClosestName {
    private ClosestName() {}

    public static Optional<String> to(String wrong, Collection<String> known) {
        int limit = Math.max(2, wrong.length() / 3);
        String lower = wrong.toLowerCase();
        return known.stream()
                .filter(k ->
                        distance(lower, k) <= limit || (k.length() >= 3 && lower.startsWith(k)) || k.startsWith(lower))
                .min(Comparator.comparingInt(k -> distance(lower, k)));
    }

    /** Suffix for a message: "; did you mean 'x'?" or nothing. */
    public static String hint(String wrong, Collection<String> known) {
        return to(wrong, known).map(k -> "; did you mean '" + k + "'?").orElse("");
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
