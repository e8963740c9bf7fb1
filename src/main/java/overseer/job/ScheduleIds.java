package overseer.job;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Stable ids for a job's schedules: a hash of the canonical entry, plus its ordinal among
 * identical entries. An entry keeps its id when others are inserted before it or the file is
 * reformatted; a changed entry gets a new one, and so starts afresh.
 */
public final class ScheduleIds {
    private ScheduleIds() {}

    /** The id of each schedule, in the order given. */
    public static List<String> of(List<ScheduleSpec> schedules) {
        List<String> ids = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (ScheduleSpec s : schedules) {
            String hash = hash(s.canonical());
            int ordinal = seen.merge(hash, 1, Integer::sum) - 1;
            ids.add(hash + "-" + ordinal);
        }
        return ids;
    }

    private static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
