package overseer.store;

/**
 * A write failed because the disk holding the store is full; said so rather than in the
 * database's words, which after a failed commit may be only a follow-on error.
 */
public final class DiskFull extends StoreException {
    public DiskFull(Throwable cause) {
        super("the store cannot write: the disk is full", cause);
    }
}
