package overseer.event;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The libc calls that let the event channel touch files a job controls without following its
 * symbolic links or blocking on its named pipes: {@code openat} relative to a directory already
 * opened, {@code statx} on a descriptor (an {@code fstat} with one layout on every architecture),
 * {@code read}/{@code write} on that descriptor and {@code unlinkat}. Linux x86-64 and aarch64.
 */
final class ChannelFiles {
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_NOCTTY = 0x100;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    // The only two flags whose values differ between x86-64 and aarch64 (asm-generic vs arm64).
    private static final boolean ARM =
            System.getProperty("os.arch", "").toLowerCase(Locale.ROOT).equals("aarch64");
    static final int O_DIRECTORY = ARM ? 0x4000 : 0x10000;
    static final int O_NOFOLLOW = ARM ? 0x8000 : 0x20000;

    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int ELOOP = 40;

    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_REMOVEDIR = 0x200;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFIFO = 0010000;
    /** {@code struct statx} is 256 bytes; the offsets below are the kernel's uapi layout. */
    private static final long STATX_BYTES = 256;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDRESS = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = LINKER.downcallHandle(
            find("open"),
            FunctionDescriptor.of(INT, ADDRESS, INT, INT),
            Linker.Option.firstVariadicArg(2),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle OPENAT = LINKER.downcallHandle(
            find("openat"),
            FunctionDescriptor.of(INT, INT, ADDRESS, INT, INT),
            Linker.Option.firstVariadicArg(3),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle STATX =
            errnoCall("statx", FunctionDescriptor.of(INT, INT, ADDRESS, INT, INT, ADDRESS));
    private static final MethodHandle READ = errnoCall("read", FunctionDescriptor.of(LONG, INT, ADDRESS, LONG));
    private static final MethodHandle WRITE = errnoCall("write", FunctionDescriptor.of(LONG, INT, ADDRESS, LONG));
    private static final MethodHandle UNLINKAT = errnoCall("unlinkat", FunctionDescriptor.of(INT, INT, ADDRESS, INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(find("close"), FunctionDescriptor.of(INT, INT));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(find("geteuid"), FunctionDescriptor.of(INT));
    private static final MethodHandle STRERROR =
            LINKER.downcallHandle(find("strerror"), FunctionDescriptor.of(ADDRESS, INT));

    private ChannelFiles() {}

    private static MemorySegment find(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(find(name), descriptor, Linker.Option.captureCallState("errno"));
    }

    /** A failed libc call, with its errno. */
    static final class Failure extends Exception {
        final int errno;

        Failure(String call, int errno) {
            super(call + ": " + strerror(errno));
            this.errno = errno;
        }
    }

    private static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** An open file descriptor, closed once. */
    record Descriptor(int fd) implements AutoCloseable {
        @Override
        public void close() {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw new IllegalStateException("close could not be called", t);
            }
        }
    }

    /** What {@code fstat} says of a descriptor: its type bits, owner and identity. */
    record Stat(int mode, int uid, long size, long device, long inode) {
        boolean regular() {
            return (mode & S_IFMT) == S_IFREG;
        }

        boolean directory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        boolean fifo() {
            return (mode & S_IFMT) == S_IFIFO;
        }

        boolean sameFile(Stat other) {
            return device == other.device && inode == other.inode;
        }
    }

    @FunctionalInterface
    private interface Call {
        long call(MemorySegment state) throws Throwable;
    }

    private static long withErrno(String name, Arena arena, Call call) throws Failure {
        MemorySegment state = arena.allocate(CAPTURE);
        long result;
        try {
            result = call.call(state);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " could not be called", t);
        }
        if (result < 0) {
            throw new Failure(name, (int) ERRNO.get(state, 0L));
        }
        return result;
    }

    static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("geteuid could not be called", t);
        }
    }

    /** {@code open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)}: a directory of the server's choosing. */
    static Descriptor openDirectory(String path) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
            return new Descriptor((int) withErrno("open", arena, s -> (int) OPEN.invokeExact(s, p, flags, 0)));
        }
    }

    /** {@code openat(dir, name, flags)}: {@code name} relative to an open directory. */
    static Descriptor openat(Descriptor dir, String name, int flags) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            return new Descriptor((int)
                    withErrno("openat", arena, s -> (int) OPENAT.invokeExact(s, dir.fd(), n, flags, 0)));
        }
    }

    /** {@code fstat(fd)}, as {@code statx(fd, "", AT_EMPTY_PATH)}. */
    static Stat fstat(Descriptor file) throws Failure {
        return statx(file.fd(), "", AT_EMPTY_PATH);
    }

    /** {@code fstatat(dir, name, AT_SYMLINK_NOFOLLOW)}: the entry itself, never what it points to. */
    static Stat lstatAt(Descriptor dir, String name) throws Failure {
        return statx(dir.fd(), name, AT_SYMLINK_NOFOLLOW);
    }

    private static Stat statx(int dirfd, String name, int flags) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            MemorySegment buf = arena.allocate(STATX_BYTES, 8);
            withErrno("statx", arena, s -> (int) STATX.invokeExact(s, dirfd, n, flags, STATX_BASIC_STATS, buf));
            long device = ((long) buf.get(INT, 136) << 32) | (buf.get(INT, 140) & 0xffffffffL);
            return new Stat(
                    Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, 28)),
                    buf.get(INT, 20),
                    buf.get(LONG, 40),
                    device,
                    buf.get(LONG, 32));
        }
    }

    /** Reads until end of file or {@code limit + 1} bytes, so that a caller sees a file too large. */
    static byte[] readAtMost(Descriptor file, int limit) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(limit + 1L);
            long total = 0;
            while (total <= limit) {
                long offset = total;
                long n = withErrno("read", arena, s ->
                        (long) READ.invokeExact(s, file.fd(), buf.asSlice(offset), limit + 1L - offset));
                if (n == 0) {
                    break;
                }
                total += n;
            }
            return buf.asSlice(0, total).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** One {@code write(fd, bytes)}: how many bytes it took. */
    static long write(Descriptor file, byte[] bytes) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            return withErrno("write", arena, s -> (long) WRITE.invokeExact(s, file.fd(), data, (long) bytes.length));
        }
    }

    /** {@code unlinkat(dir, name, 0)}: removes a file (a symbolic link itself, never its target). */
    static void unlinkat(Descriptor dir, String name) throws Failure {
        unlinkat(dir, name, 0);
    }

    /** {@code unlinkat(dir, name, AT_REMOVEDIR)}: removes an empty directory. */
    static void rmdirAt(Descriptor dir, String name) throws Failure {
        unlinkat(dir, name, AT_REMOVEDIR);
    }

    private static void unlinkat(Descriptor dir, String name, int flags) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            withErrno("unlinkat", arena, s -> (int) UNLINKAT.invokeExact(s, dir.fd(), n, flags));
        }
    }
}
