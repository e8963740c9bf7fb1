package overseer.process;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Starts processes with {@code posix_spawn} through the FFM API: no helper process (ProcessBuilder
 * execs one first), a new session, a clean signal mask, every inherited descriptor above stderr
 * closed, and the exit reported by the {@link Reaper}.
 */
public final class PosixSpawnLauncher implements Launcher {
    private static final int PIPE_BYTES = 1024 * 1024;

    private final Reaper reaper;

    public PosixSpawnLauncher() throws IOException {
        try {
            this.reaper = Reaper.instance();
        } catch (Libc.Failure e) {
            throw new IOException("cannot become a child subreaper: " + e.getMessage());
        }
    }

    /**
     * Moves itself into the cgroup named by {@code $0}, then becomes the job: every process the
     * job starts is in the cgroup from its first instruction. A move that fails leaves the job
     * running outside it, found by its marker as on a machine without cgroups.
     */
    private static final String ENTER_CGROUP = "{ echo $$ > \"$0\"; } 2>/dev/null; exec \"$@\"";

    @Override
    public Process start(Command given) throws IOException {
        Command command = given.cgroup().isEmpty() ? given : entering(given);
        int[] out;
        int[] err;
        try {
            out = Libc.pipe();
        } catch (Libc.Failure e) {
            throw new IOException(e.getMessage());
        }
        try {
            err = Libc.pipe();
        } catch (Libc.Failure e) {
            Libc.close(out[0]);
            Libc.close(out[1]);
            throw new IOException(e.getMessage());
        }
        // Fewer, larger reads when a job writes a lot: the reader wakes once per buffer, not per 64 KiB.
        Libc.growPipe(out[0], PIPE_BYTES);
        Libc.growPipe(err[0], PIPE_BYTES);
        Set<String> pipes;
        try {
            pipes = Set.of(pipeName(out[1]), pipeName(err[1]));
        } catch (IOException e) {
            closeAll(out, err);
            Libc.close(out[1]);
            Libc.close(err[1]);
            throw e;
        }
        Reaper.Child child;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(Libc.FILE_ACTIONS_BYTES, 16);
            MemorySegment attr = arena.allocate(Libc.SPAWNATTR_BYTES, 16);
            MemorySegment empty = arena.allocate(Libc.SIGSET_BYTES, 16);
            MemorySegment all = arena.allocate(Libc.SIGSET_BYTES, 16);
            MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment path = arena.allocateFrom(command.argv().getFirst());
            MemorySegment argv = Libc.strings(arena, command.argv());
            MemorySegment envp = Libc.strings(arena, command.env());
            Libc.check("posix_spawn_file_actions_init", (int) Libc.ACTIONS_INIT.invokeExact(actions));
            Libc.check("posix_spawnattr_init", (int) Libc.ATTR_INIT.invokeExact(attr));
            try {
                Libc.check("addopen", (int)
                        Libc.ACTIONS_OPEN.invokeExact(actions, 0, arena.allocateFrom("/dev/null"), Libc.O_RDONLY, 0));
                Libc.check("adddup2", (int) Libc.ACTIONS_DUP2.invokeExact(actions, out[1], 1));
                Libc.check("adddup2", (int)
                        Libc.ACTIONS_DUP2.invokeExact(actions, command.mergeStreams() ? out[1] : err[1], 2));
                Libc.check("addclosefrom", (int) Libc.ACTIONS_CLOSEFROM.invokeExact(actions, 3));
                Libc.check("addchdir", (int) Libc.ACTIONS_CHDIR.invokeExact(
                        actions, arena.allocateFrom(command.directory().toString())));
                Libc.check("sigemptyset", (int) Libc.SIGEMPTYSET.invokeExact(empty));
                Libc.check("sigfillset", (int) Libc.SIGFILLSET.invokeExact(all));
                Libc.check("setsigmask", (int) Libc.ATTR_SIGMASK.invokeExact(attr, empty));
                Libc.check("setsigdefault", (int) Libc.ATTR_SIGDEFAULT.invokeExact(attr, all));
                Libc.check("setflags", (int) Libc.ATTR_FLAGS.invokeExact(attr, (short)
                        (Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF)));
                child = reaper.spawn(() -> {
                    try {
                        Libc.check("cannot execute " + command.argv().getFirst(), (int)
                                Libc.SPAWN.invokeExact(pid, path, actions, attr, argv, envp));
                    } catch (Libc.Failure f) {
                        throw f;
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                    return pid.get(ValueLayout.JAVA_INT, 0);
                });
            } finally {
                int ignored = (int) Libc.ACTIONS_DESTROY.invokeExact(actions);
                ignored = (int) Libc.ATTR_DESTROY.invokeExact(attr);
            }
        } catch (Libc.Failure e) {
            closeAll(out, err);
            throw new IOException(e.getMessage());
        } catch (Throwable t) {
            closeAll(out, err);
            throw new IllegalStateException(t);
        } finally {
            Libc.close(out[1]);
            Libc.close(err[1]);
        }
        return new Process(child.pid(), reopen(out[0]), reopen(err[0]), child.exit(), pipes);
    }

    /**
     * The command run through {@code /bin/sh}, which enters the cgroup first. That shell would
     * report a missing program as exit 127; it is reported as posix_spawn reports it instead.
     */
    private static Command entering(Command command) throws IOException {
        Path program = Path.of(command.argv().getFirst());
        if (!Files.isRegularFile(program)) {
            throw new IOException("cannot execute " + program + ": No such file or directory");
        }
        if (!Files.isExecutable(program)) {
            throw new IOException("cannot execute " + program + ": Permission denied");
        }
        String procs = command.cgroup().get().procs().toString();
        if (command.argv().size() == 3
                && command.argv().get(0).equals("/bin/sh")
                && command.argv().get(1).equals("-c")) {
            // A command is already a shell: it moves itself in as its first command, on the same
            // line (so the shell's line numbers stay the job's), and no second shell is started.
            String enter = "{ echo $$ >'" + procs.replace("'", "'\\''") + "'; } 2>/dev/null; ";
            return command.withArgv(
                    java.util.List.of("/bin/sh", "-c", enter + command.argv().get(2)));
        }
        java.util.List<String> argv =
                new java.util.ArrayList<>(java.util.List.of("/bin/sh", "-c", ENTER_CGROUP, procs));
        argv.addAll(command.argv());
        return command.withArgv(argv);
    }

    /**
     * A stream on our end of a pipe. The JDK cannot adopt a raw descriptor, but opening
     * /proc/self/fd/N opens the same pipe; the original descriptor is closed after.
     */
    private static InputStream reopen(int fd) throws IOException {
        try {
            return new FileInputStream("/proc/self/fd/" + fd);
        } finally {
            Libc.close(fd);
        }
    }

    /** How /proc shows the pipe of our descriptor {@code fd}: {@code pipe:[inode]}. */
    private static String pipeName(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    private static void closeAll(int[] out, int[] err) {
        Libc.close(out[0]);
        Libc.close(err[0]);
    }
}
