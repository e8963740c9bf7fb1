package overseer.config;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import overseer.job.Problem;

/**
 * What {@code GET /config} shows: the active snapshot, how the last sync went, and the problems
 * of the newest revision if it was rejected.
 */
public record ConfigStatus(
        String source,
        Optional<Snapshot> active,
        Optional<Instant> lastSync,
        Outcome outcome,
        Optional<String> error,
        Optional<String> rejectedRevision,
        List<Problem> problems) {
    public enum Outcome {
        /** No sync has finished yet. */
        PENDING,
        /** A new revision was validated and is now active. */
        APPLIED,
        /** The newest revision is the active one. */
        UNCHANGED,
        /** The newest revision has validation problems; the previous one keeps serving. */
        INVALID,
        /** The source could not be read (unreachable, authentication); the previous one keeps serving. */
        FAILED
    }

    public ConfigStatus {
        problems = List.copyOf(problems);
    }
}
