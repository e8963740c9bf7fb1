package overseer.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signals the processes of an execution: its process group, and also every process that left the
 * group (a {@code setsid}, a double fork). Those are found by the marker variable the execution
 * was started with, {@code OVERSEER_RUN_ID}, which descendants inherit, and by the run's cgroup
 * where the machine offers one, which no descendant leaves on its own.
 */
public final class ProcessGroups {
    private static final Logger log = LoggerFactory.getLogger(ProcessGroups.class);
    public static final String MARKER = "OVERSEER_RUN_ID";
    private static final Path PROC = Path.of("/proc");

    private final ProcessGroup.Kill kill;
    /** The cgroup of each running execution that has one, by run id; removed at its end. */
    private final Map<String, Cgroups.Cgroup> cgroups = new ConcurrentHashMap<>();
    /** Found on first use: whether the machine offers cgroups, decided once. */
    private Cgroups.Found offer;

    public ProcessGroups() {
        this(Libc::kill);
    }

    ProcessGroups(ProcessGroup.Kill kill) {
        this.kill = kill;
    }

    /** What the machine offers for containing executions, looked up (and logged) once. */
    public synchronized Cgroups.Found offer() {
        if (offer == null) {
            offer = Cgroups.find();
            switch (offer) {
                case Cgroups.Found.Some(Cgroups c) ->
                    log.info("processes: each execution runs in a cgroup under {}", c.base());
                case Cgroups.Found.None(String reason) ->
                    log.info(
                            "processes: no cgroups ({}); a process that leaves its group and hides its marker"
                                    + " and its output can outlive its execution",
                            reason);
            }
        }
        return offer;
    }

    /**
     * A cgroup for the run {@code runId}, named {@code name}, when the machine offers them; its
     * members are signalled with the run's from now on, until {@link #endAll}.
     */
    public Optional<Cgroups.Cgroup> contain(String runId, String name) {
        if (!(offer() instanceof Cgroups.Found.Some(Cgroups c))) {
            return Optional.empty();
        }
        try {
            Cgroups.Cgroup cgroup = c.create(name);
            cgroups.put(runId, cgroup);
            return Optional.of(cgroup);
        } catch (java.io.IOException e) {
            log.warn("processes: cannot create the cgroup {}: {}", name, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Sends {@code signal} to the process group {@code pgid}, one of ours whose leader has not
     * been reaped; false when it is gone, was never ours, or refused ({@code EPERM}, logged once).
     */
    public boolean signal(long pgid, int signal) {
        Optional<ProcessGroup> group = Reaper.existing().flatMap(r -> r.group(pgid));
        if (group.isEmpty()) {
            return false;
        }
        return switch (group.get().signal(kill, signal)) {
            case SENT -> true;
            case GONE -> false;
            case REFUSED -> {
                if (group.get().firstRefusal()) {
                    log.warn(
                            "processes: signal {} to process group {} refused (EPERM): a member is not ours to signal;"
                                    + " its processes are signalled one by one",
                            Signals.name(signal),
                            pgid);
                }
                yield false;
            }
        };
    }

    /**
     * Kills (SIGKILL) the group and every process carrying the run's marker or in its cgroup,
     * repeating until none is left, since a dying process may still fork. Returns how many were
     * found outside the group.
     */
    public int killAll(long pgid, String runId) {
        return killUntilGone(pgid, () -> marked(runId), runId);
    }

    /**
     * Kills every live process carrying the run's marker, without trusting a stored process group
     * id, which may belong to someone else by now. Returns how many were killed.
     */
    public int killMarked(String runId) {
        return killUntilGone(0, () -> marked(runId), runId);
    }

    /**
     * The end of a run, whatever ended it: SIGKILLs what is left of it (its group while the
     * leader is unreaped, its marked processes, its cgroup, which is then removed). Returns how
     * many processes were found outside the group.
     */
    public int endAll(long pgid, String runId) {
        Cgroups.Cgroup entered = cgroups.get(runId);
        boolean contained = entered != null && entered.entered();
        // Everything of a run whose process entered its cgroup is in the cgroup: killing the
        // group and the cgroup is enough, and the scan of every process's environment in /proc
        // (the largest cost of a short execution's end) is left out. Most runs leave nothing:
        // their group went with its leader and the kernel removes only an empty cgroup, so one
        // rmdir proves it without reading the members (a busy one takes the loop below).
        if (contained && !(pgid > 0 && signal(pgid, Libc.SIGKILL)) && entered.removeIfEmpty()) {
            cgroups.remove(runId);
            return 0;
        }
        int killed = contained ? killUntilGone(pgid, List::of, runId) : killAll(pgid, runId);
        Cgroups.Cgroup cgroup = cgroups.remove(runId);
        if (cgroup != null) {
            killed += cgroup.members().size();
            if (!cgroup.killAndRemove()) {
                log.warn("processes: the cgroup {} still has members after SIGKILL; left in place", cgroup.dir());
            }
        }
        return killed;
    }

    /**
     * SIGKILLs the group (when {@code pgid} is positive), the run's cgroup and whatever
     * {@code found} lists, again and again while any is left, since a dying process may still
     * fork. Returns how many listed processes were killed.
     */
    private int killUntilGone(long pgid, java.util.function.Supplier<List<Long>> found, String runId) {
        int killed = 0;
        for (int round = 0; round < 50; round++) {
            boolean group = pgid > 0 && signal(pgid, Libc.SIGKILL);
            List<Long> left = new ArrayList<>(found.get());
            left.addAll(cgroupMembers(runId));
            for (long pid : left) {
                try {
                    kill.send(pid, Libc.SIGKILL);
                    killed++;
                } catch (Libc.Failure e) {
                    // Ended meanwhile, or not ours to kill.
                }
            }
            if (!group && left.isEmpty()) {
                return killed;
            }
            pause();
        }
        return killed;
    }

    private List<Long> cgroupMembers(String runId) {
        Cgroups.Cgroup cgroup = runId.isEmpty() ? null : cgroups.get(runId);
        return cgroup == null ? List.of() : cgroup.members();
    }

    /** Sends {@code signal} to the group and to the run's processes outside it too. */
    public void signalAll(long pgid, String runId, int signal) {
        signal(pgid, signal);
        List<Long> others = new ArrayList<>(marked(runId));
        others.addAll(cgroupMembers(runId));
        for (long pid : others) {
            try {
                kill.send(pid, signal);
            } catch (Libc.Failure e) {
                // Ended meanwhile, or not ours to signal.
            }
        }
    }

    /** Live processes (not zombies) whose environment carries {@code OVERSEER_RUN_ID=runId}. */
    public List<Long> marked(String runId) {
        byte[] needle = ("\0" + MARKER + "=" + runId + "\0").getBytes(StandardCharsets.UTF_8);
        return live(proc -> {
            try {
                return contains(Files.readAllBytes(proc.resolve("environ")), needle);
            } catch (IOException e) {
                return false; // Gone, or not ours to read.
            }
        });
    }

    /** Live processes (not zombies) other than this one whose {@code /proc} entry matches. */
    private static List<Long> live(java.util.function.Predicate<Path> matches) {
        List<Long> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> entries =
                Files.newDirectoryStream(PROC, p -> isPid(p.getFileName().toString()))) {
            for (Path p : entries) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid != self && !isZombie(p) && matches.test(p)) {
                    found.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e.getMessage());
        }
        return found;
    }

    /**
     * Kills every process that holds one of {@code pipes} open (as {@code /proc/<pid>/fd} names
     * them): a descendant that hid its marker still holds the job's output. Returns how many.
     */
    public int killHolders(Set<String> pipes) {
        return killUntilGone(0, () -> holders(pipes), "");
    }

    /** Live processes other than this one with a descriptor on one of {@code pipes}. */
    List<Long> holders(Set<String> pipes) {
        return live(proc -> holdsAny(proc.resolve("fd"), pipes));
    }

    private static boolean holdsAny(Path fds, Set<String> pipes) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
            for (Path fd : entries) {
                try {
                    if (pipes.contains(Files.readSymbolicLink(fd).toString())) {
                        return true;
                    }
                } catch (IOException e) {
                    // Closed meanwhile.
                }
            }
        } catch (IOException e) {
            // Gone, or not ours to read.
        }
        return false;
    }

    /** Lets the killed processes die (and the reaper reap them) before looking again. */
    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isZombie(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
        } catch (IOException e) {
            return true;
        }
    }

    private static boolean isPid(String name) {
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }

    /** Whether {@code haystack}, read as a NUL-separated list that starts after a NUL, holds needle. */
    private static boolean contains(byte[] haystack, byte[] needle) {
        // The first entry has no NUL before it: compare it without the needle's leading NUL.
        if (startsWith(haystack, 0, needle, 1)) {
            return true;
        }
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean startsWith(byte[] haystack, int at, byte[] needle, int from) {
        if (haystack.length - at < needle.length - from) {
            return false;
        }
        for (int j = from; j < needle.length; j++) {
            if (haystack[at + j - from] != needle[j]) {
                return false;
            }
        }
        return true;
    }

    public static final int SIGSTOP = Libc.SIGSTOP;
    public static final int SIGCONT = Libc.SIGCONT;
    public static final int SIGTERM = Libc.SIGTERM;
    public static final int SIGKILL = Libc.SIGKILL;
}
