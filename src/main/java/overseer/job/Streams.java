package overseer.job;

/**
 * Where a job's stderr goes: to a pipe of its own ({@code split}, the default: the combined
 * output interleaves the two by arrival, so writes close together may swap), or to the stdout
 * pipe ({@code merged}: one stream in the exact order written; stderr stays empty).
 */
public enum Streams {
    SPLIT,
    MERGED
}
