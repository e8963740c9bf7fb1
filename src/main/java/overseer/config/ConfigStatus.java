package overseer.config;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import overseer.job.Problem;

/**
 * What {@code GET /config} shows: the active snapshot, how the last sync went, and the problems
 * of the newest revision if it was rejected, and when the source was last read successfully.
 */
public record ConfigStatus(
        String source,
        Optional<Snapshot> active,
        Optional<Instant> lastSync,
        Outcome outcome,
        Optional<String> error,
        Optional<String> rejectedRevision,
        List<Problem> problems,
        Optional<Instant> lastSuccess) {
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
                List.of(),
                Optional.empty());
    }

    /** The source could not be read; whatever was active and rejected stays so. */
    ConfigStatus failed(Instant at, String why) {
        return new ConfigStatus(
                source,
                active,
                Optional.of(at),
                Outcome.FAILED,
                Optional.of(why),
                rejectedRevision,
                problems,
                lastSuccess);
    }

    ConfigStatus unchanged(Instant at) {
        return new ConfigStatus(
                source,
                active,
                Optional.of(at),
                Outcome.UNCHANGED,
                Optional.empty(),
                Optional.empty(),
                List.of(),
                Optional.of(at));
    }

    /** The newest revision is the one rejected before; its problems still stand. */
    ConfigStatus stillInvalid(Instant at) {
        return new ConfigStatus(
                source,
                active,
                Optional.of(at),
                Outcome.INVALID,
                Optional.empty(),
                rejectedRevision,
                problems,
                Optional.of(at));
    }

    ConfigStatus rejected(Instant at, String revision, List<Problem> found) {
        return new ConfigStatus(
                source,
                active,
                Optional.of(at),
                Outcome.INVALID,
                Optional.empty(),
                Optional.of(revision),
                found,
                Optional.of(at));
    }

    ConfigStatus applied(Instant at, Snapshot snapshot) {
        return new ConfigStatus(
                source,
                Optional.of(snapshot),
                Optional.of(at),
                Outcome.APPLIED,
                Optional.empty(),
                Optional.empty(),
                List.of(),
                Optional.of(at));
    }

    /** Serving {@code snapshot} without a sync having run (restored after a restart). */
    ConfigStatus restored(Snapshot snapshot) {
        return new ConfigStatus(
                source, Optional.of(snapshot), lastSync, outcome, error, rejectedRevision, problems, lastSuccess);
    }
}
