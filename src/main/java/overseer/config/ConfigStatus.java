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

    static ConfigStatus pending(String source) {
        return new ConfigStatus(
                source,
                Optional.empty(),
                Optional.empty(),
                Outcome.PENDING,
                Optional.empty(),
                Optional.empty(),
                List.of());
    }

    /** The source could not be read; whatever was active and rejected stays so. */
    ConfigStatus failed(Instant at, String why) {
        return new ConfigStatus(
                source, active, Optional.of(at), Outcome.FAILED, Optional.of(why), rejectedRevision, problems);
    }

    ConfigStatus unchanged(Instant at) {
        return new ConfigStatus(
                source, active, Optional.of(at), Outcome.UNCHANGED, Optional.empty(), Optional.empty(), List.of());
    }

    /** The newest revision is the one rejected before; its problems still stand. */
    ConfigStatus stillInvalid(Instant at) {
        return new ConfigStatus(
                source, active, Optional.of(at), Outcome.INVALID, Optional.empty(), rejectedRevision, problems);
    }

    ConfigStatus rejected(Instant at, String revision, List<Problem> found) {
        return new ConfigStatus(
                source, active, Optional.of(at), Outcome.INVALID, Optional.empty(), Optional.of(revision), found);
    }

    ConfigStatus applied(Instant at, Snapshot snapshot) {
        return new ConfigStatus(
                source,
                Optional.of(snapshot),
                Optional.of(at),
                Outcome.APPLIED,
                Optional.empty(),
                Optional.empty(),
                List.of());
    }

    /** Serving {@code snapshot} without a sync having run (restored after a restart). */
    ConfigStatus restored(Snapshot snapshot) {
        return new ConfigStatus(source, Optional.of(snapshot), lastSync, outcome, error, rejectedRevision, problems);
    }
}
