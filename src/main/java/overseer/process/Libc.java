package overseer.process;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * The few libc calls that process control needs and the JDK does not offer, through the FFM API.
 * Linux x86-64 and aarch64 with glibc 2.34 or newer (for {@code posix_spawn_file_actions_addclosefrom_np}).
 */
final class Libc {
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;
    static final int SIGCONT = 18;
    static final int SIGSTOP = 19;
    static final int EPERM = 1;
    static final int ESRCH = 3;
    static final int EINTR = 4;
    static final int ECHILD = 10;
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_NONBLOCK = 0x800;
    static final int ENXIO = 6;
    static final int EEXIST = 17;
    static final int O_CLOEXEC = 0x80000;
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    static final short POSIX_SPAWN_SETSID = 0x80;
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    /** Opaque libc structures: larger than glibc's (336, 80 and 128 bytes), which is harmless. */
    static final long SPAWNATTR_BYTES = 512;

    static final long FILE_ACTIONS_BYTES = 256;
    static final long SIGSET_BYTES = 256;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final java.lang.foreign.AddressLayout ADDRESS = ValueLayout.ADDRESS;

    private static final MethodHandle KILL = errnoCall("kill", FunctionDescriptor.of(INT, INT, INT));
    private static final MethodHandle WAITPID = errnoCall("waitpid", FunctionDescriptor.of(INT, INT, ADDRESS, INT));
    private static final MethodHandle WAITID = errnoCall("waitid", FunctionDescriptor.of(INT, INT, INT, ADDRESS, INT));
    private static final int P_ALL = 0;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;
    /** {@code siginfo_t} is 128 bytes; {@code si_pid} follows three ints, aligned to 8 on 64-bit Linux. */
    private static final long SIGINFO_BYTES = 128;

    private static final long SI_PID = 16;
    private static final MethodHandle PIPE2 = errnoCall("pipe2", FunctionDescriptor.of(INT, ADDRESS, INT));
    private static final MethodHandle FCNTL = LINKER.downcallHandle(
            LIBC.find("fcntl").orElseThrow(),
            FunctionDescriptor.of(INT, INT, INT, INT),
            Linker.Option.firstVariadicArg(2));
    private static final int F_SETPIPE_SZ = 1031;
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle MKFIFO = errnoCall("mkfifo", FunctionDescriptor.of(INT, ADDRESS, INT));
    private static final MethodHandle OPEN = LINKER.downcallHandle(
            LIBC.find("open").orElseThrow(),
            FunctionDescriptor.of(INT, ADDRESS, INT, INT),
            Linker.Option.firstVariadicArg(2),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle WRITE =
            errnoCall("write", FunctionDescriptor.of(ValueLayout.JAVA_LONG, INT, ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle PRCTL = LINKER.downcallHandle(
            LIBC.find("prctl").orElseThrow(),
            FunctionDescriptor.of(INT, INT, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle STRERROR = call("strerror", FunctionDescriptor.of(ADDRESS, INT));
    static final MethodHandle SPAWN =
            call("posix_spawn", FunctionDescriptor.of(INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle ACTIONS_INIT = call("posix_spawn_file_actions_init", FunctionDescriptor.of(INT, ADDRESS));
    static final MethodHandle ACTIONS_DESTROY =
            call("posix_spawn_file_actions_destroy", FunctionDescriptor.of(INT, ADDRESS));
    static final MethodHandle ACTIONS_OPEN =
            call("posix_spawn_file_actions_addopen", FunctionDescriptor.of(INT, ADDRESS, INT, ADDRESS, INT, INT));
    static final MethodHandle ACTIONS_DUP2 =
            call("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(INT, ADDRESS, INT, INT));
    static final MethodHandle ACTIONS_CHDIR =
            call("posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(INT, ADDRESS, ADDRESS));
    static final MethodHandle ACTIONS_CLOSEFROM =
            call("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(INT, ADDRESS, INT));
    static final MethodHandle ATTR_INIT = call("posix_spawnattr_init", FunctionDescriptor.of(INT, ADDRESS));
    static final MethodHandle ATTR_DESTROY = call("posix_spawnattr_destroy", FunctionDescriptor.of(INT, ADDRESS));
    static final MethodHandle ATTR_FLAGS =
            call("posix_spawnattr_setflags", FunctionDescriptor.of(INT, ADDRESS, ValueLayout.JAVA_SHORT));
    static final MethodHandle ATTR_SIGMASK =
            call("posix_spawnattr_setsigmask", FunctionDescriptor.of(INT, ADDRESS, ADDRESS));
    static final MethodHandle ATTR_SIGDEFAULT =
            call("posix_spawnattr_setsigdefault", FunctionDescriptor.of(INT, ADDRESS, ADDRESS));
    static final MethodHandle SIGEMPTYSET = call("sigemptyset", FunctionDescriptor.of(INT, ADDRESS));
    static final MethodHandle SIGFILLSET = call("sigfillset", FunctionDescriptor.of(INT, ADDRESS));

    private Libc() {}

    private static MethodHandle call(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), descriptor);
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(
                LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)),
                descriptor,
                Linker.Option.captureCallState("errno"));
    }

    /** A failed libc call, with its errno. */
    static final class Failure extends Exception {
        final int errno;

        Failure(String call, int errno) {
            super(call + ": " + strerror(errno));
            this.errno = errno;
        }
    }

    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** A libc call that sets errno on failure: gets the segment errno is captured into and its arena. */
    @FunctionalInterface
    private interface ErrnoCall {
        int call(MemorySegment state, Arena arena) throws Throwable;
    }

    /** A call's non-negative result; a negative one is a {@link Failure} with the captured errno. */
    private static int withErrno(String name, Arena arena, ErrnoCall call) throws Failure {
        MemorySegment state = arena.allocate(CAPTURE);
        int result;
        try {
            result = call.call(state, arena);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " could not be called", t);
        }
        if (result < 0) {
            throw new Failure(name, (int) ERRNO.get(state, 0L));
        }
        return result;
    }

    /** {@code kill(pid, signal)}; a negative pid signals the process group. */
    static void kill(long pid, int signal) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            withErrno("kill", arena, (state, a) -> (int) KILL.invokeExact(state, (int) pid, signal));
        }
    }

    /** Makes orphaned descendants of this process its children instead of init's. */
    static void becomeSubreaper() throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            withErrno("prctl(PR_SET_CHILD_SUBREAPER)", arena, (state, a) ->
                    (int) PRCTL.invokeExact(state, PR_SET_CHILD_SUBREAPER, 1L));
        }
    }

    /** A child that ended: its pid and raw wait status. */
    record Reaped(int pid, int status) {}

    /**
     * Blocks until any child has ended and answers its pid, leaving it a zombie: its pid (and so
     * its process group id) cannot be reused until {@link #reap} takes it.
     */
    static int awaitAnyExit() throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(SIGINFO_BYTES, 8);
            withErrno(
                    "waitid", arena, (state, a) -> (int) WAITID.invokeExact(state, P_ALL, 0, info, WEXITED | WNOWAIT));
            return info.get(INT, SI_PID);
        }
    }

    /** Reaps the ended child {@code pid}: its raw wait status. */
    static Reaped reap(int pid) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(INT);
            int reaped = withErrno("waitpid", arena, (state, a) -> (int) WAITPID.invokeExact(state, pid, status, 0));
            return new Reaped(reaped, status.get(INT, 0));
        }
    }

    /** A new pipe, both ends close-on-exec: {read, write}. */
    static int[] pipe() throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(INT, 2);
            withErrno("pipe2", arena, (state, a) -> (int) PIPE2.invokeExact(state, fds, O_CLOEXEC));
            return new int[] {fds.getAtIndex(INT, 0), fds.getAtIndex(INT, 1)};
        }
    }

    /**
     * Asks for a pipe buffer of {@code bytes} (the kernel's default is 64 KiB, its limit for
     * unprivileged processes 1 MiB); a refusal is harmless, the pipe only stays smaller.
     */
    static void growPipe(int fd, int bytes) {
        try {
            int ignored = (int) FCNTL.invokeExact(fd, F_SETPIPE_SZ, bytes);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code mkfifo(path, mode)}. */
    static void mkfifo(String path, int mode) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            withErrno("mkfifo", arena, (state, a) -> (int) MKFIFO.invokeExact(state, p, mode));
        }
    }

    /** {@code open(path, flags)}: a file descriptor. */
    static int open(String path, int flags) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            return withErrno("open", arena, (state, a) -> (int) OPEN.invokeExact(state, p, flags, 0));
        }
    }

    /** One {@code write(fd, bytes)}: how many bytes it took. */
    static long write(int fd, byte[] bytes) throws Failure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            MemorySegment state = arena.allocate(CAPTURE);
            long written;
            try {
                written = (long) WRITE.invokeExact(state, fd, data, (long) bytes.length);
            } catch (Throwable t) {
                throw new IllegalStateException("write could not be called", t);
            }
            if (written < 0) {
                throw new Failure("write", (int) ERRNO.get(state, 0L));
            }
            return written;
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Calls a libc function that returns 0 or an error number (the posix_spawn family). */
    static void check(String name, int result) throws Failure {
        if (result != 0) {
            throw new Failure(name, result);
        }
    }

    /** A NULL-terminated array of C strings, as argv and envp are. */
    static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }
}
