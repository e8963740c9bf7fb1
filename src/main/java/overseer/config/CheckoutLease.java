package overseer.config;

/** A checkout kept from pruning until {@link #close()}. */
public final class CheckoutLease implements AutoCloseable {
    private final Checkout checkout;
    private final Runnable release;
    private boolean closed;

    CheckoutLease(Checkout checkout, Runnable release) {
        this.checkout = checkout;
        this.release = release;
    }

    /** A lease on a directory that nothing prunes, such as the working tree of {@code overseer run}. */
    public static CheckoutLease unmanaged(String revision, java.nio.file.Path dir) {
        return new CheckoutLease(Checkout.ready(revision, dir), () -> {});
    }

    public Checkout checkout() {
        return checkout;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            release.run();
        }
    }
}
