package overseer.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A small tmpfs mounted on a directory, to fill a disk for real. Through mount(2) rather than
 * the mount command: a child started with ProcessBuilder would be reaped by the server's reaper.
 * Needs the right to mount (root, as in CI); {@link #mount} is empty where it is missing.
 */
public final class Tmpfs implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MOUNT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("mount").orElseThrow(),
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS));
    private static final MethodHandle UMOUNT2 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("umount2").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    /** Detaches at once even while the server still holds files there. */
    private static final int MNT_DETACH = 2;

    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code megabytes} on {@code dir}; empty when this process may not mount. */
    public static Optional<Tmpfs> mount(Path dir, int megabytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fs = arena.allocateFrom("tmpfs");
            int result = (int) MOUNT.invokeExact(
                    fs, arena.allocateFrom(dir.toString()), fs, 0L, arena.allocateFrom("size=" + megabytes + "m"));
            return result == 0 ? Optional.of(new Tmpfs(dir)) : Optional.empty();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) UMOUNT2.invokeExact(arena.allocateFrom(dir.toString()), MNT_DETACH);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
