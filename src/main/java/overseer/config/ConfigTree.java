package overseer.config;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The files of one revision as validation sees them: paths relative to the configuration root,
 * with their kind and size, and their bytes on demand. Git revisions are read straight from the
 * object database, so a revision is validated before (and without) being written to disk.
 */
public interface ConfigTree {
    enum Kind {
        FILE,
        EXECUTABLE,
        SYMLINK,
        /** Something that cannot be read as a file (a FIFO, a socket, no permission): reading it fails. */
        UNREADABLE
    }

    /** One file; {@code path} uses '/' and has no leading slash. */
    record Entry(String path, Kind kind, long size) {}

    /** Every file and link, by path, directories implied. */
    Map<String, Entry> entries();

    /** The content of a file, or the target of a link. */
    byte[] read(Entry entry) throws IOException;

    /** An entry no checkout can write, seen while reading the tree: {@code reason} says why. */
    record Refused(String path, String reason) {}

    /**
     * What the tree holds that {@link #entries()} cannot show: two entries of one name in a Git tree
     * (a map keeps one), a file mode nothing writes. Empty for a directory on disk, which holds none.
     */
    default List<Refused> refused() {
        return List.of();
    }
}
