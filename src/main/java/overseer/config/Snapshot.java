package overseer.config;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.RepoSettings;

/**
 * One applied revision of the configuration: its jobs and the immutable checkout that executions
 * of it run in.
 */
public record Snapshot(
        String revision,
        Checkout checkout,
        Map<JobName, JobDefinition> jobs,
        RepoSettings settings,
        Instant appliedAt) {
    public Snapshot {
        jobs = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(jobs));
    }

    public Optional<JobDefinition> job(JobName name) {
        return Optional.ofNullable(jobs.get(name));
    }
}
