package overseer.job;

/** What a trigger does when the job's {@code concurrency} is reached. */
public enum Overlap {
    QUEUE,
    SKIP,
    REPLACE
}
