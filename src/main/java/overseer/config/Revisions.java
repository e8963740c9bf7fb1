package overseer.config;

import java.nio.file.Path;

/** Finds the newest revision of a source and writes any revision's files into a directory. */
sealed interface Revisions extends AutoCloseable permits GitRevisions, DirectoryRevisions {
    /** The id of the newest revision (a commit SHA, or a content hash for plain directories). */
    String latest() throws SyncException;

    /**
     * Writes the configuration root of revision {@code id} into the empty directory
     * {@code target}, and returns the id of what was written (for a plain directory that changed
     * meanwhile it differs from {@code id}).
     */
    String materialize(String id, Path target) throws SyncException;

    @Override
    void close();
}
