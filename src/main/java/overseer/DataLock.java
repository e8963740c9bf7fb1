package overseer;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * One server per data directory: an exclusive {@code flock(2)} on {@code <data>/lock}, held for
 * the server's life and released by the kernel when the process dies. {@code flock} rather than
 * {@link java.nio.channels.FileChannel#tryLock()}: the JDK's locks are {@code fcntl} locks, owned
 * by the process, so a second server in the same JVM would not be refused and closing any channel
 * on the file would drop the first server's lock; a {@code flock} belongs to its open file, so a
 * second open of the file, in this process or another, is refused.
 */
final class DataLock implements AutoCloseable {
    static final String FILE = "lock";
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0x40;
    private static final int O_CLOEXEC = 0x80000;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int EWOULDBLOCK = 11;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(
            LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle FLOCK = LINKER.downcallHandle(
            LINKER.defaultLookup().find("flock").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private int fd;

    private DataLock(int fd) {
        this.fd = fd;
    }

    /** Locks {@code data} (which exists); a {@link StartupException} when another server holds it or it cannot be locked. */
    static DataLock acquire(Path data) {
        Path file = data.resolve(FILE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int)
                    OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) {
                throw new StartupException(
                        "data directory " + data + " is not writable: " + file + ": " + strerror(errno(state)));
            }
            if ((int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB) < 0) {
                int errno = errno(state);
                int ignored = (int) CLOSE.invokeExact(fd);
                throw new StartupException(
                        errno == EWOULDBLOCK
                                ? "data directory " + data + " is in use by another overseer server (" + file
                                        + " is locked)"
                                : "cannot lock the data directory " + data + ": " + strerror(errno));
            }
            return new DataLock(fd);
        } catch (StartupException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("open/flock could not be called", t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static String strerror(int errno) {
        try {
            return ((MemorySegment) STRERROR.invokeExact(errno))
                    .reinterpret(1024)
                    .getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** Releases the lock (closing the file drops it). */
    @Override
    public synchronized void close() {
        if (fd >= 0) {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            fd = -1;
        }
    }
}
