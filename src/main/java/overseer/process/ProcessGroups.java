package overseer.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Signals the processes of an execution: its process group, and also every process that left the
 * group (a {@code setsid}, a double fork). Those are found by the marker variable the execution
 * was started with, {@code OVERSEER_RUN_ID}, which descendants inherit.
 */
public final class ProcessGroups {
    public static final String MARKER = "OVERSEER_RUN_ID";
    private static final Path PROC = Path.of("/proc");

    /** Sends {@code signal} to the process group {@code pgid}; false when the group is gone. */
    public boolean signal(long pgid, int signal) {
        try {
            Libc.kill(-pgid, signal);
            return true;
        } catch (Libc.Failure e) {
            if (e.errno == Libc.ESRCH) {
                return false;
            }
            throw new IllegalStateException(e.getMessage());
        }
    }

    /**
     * Kills (SIGKILL) the group and every process carrying the run's marker, repeating until none
     * is left, since a dying process may still fork. Returns how many marked processes were found
     * outside the group.
     */
    public int killAll(long pgid, String runId) {
        return kill(pgid, runId);
    }

    /**
     * Kills every live process carrying the run's marker, without trusting a stored process group
     * id, which may belong to someone else by now. Returns how many were killed.
     */
    public int killMarked(String runId) {
        return kill(0, runId);
    }

    /** The kill loop of both: the group too when {@code pgid} is positive. */
    private int kill(long pgid, String runId) {
        return killUntilGone(pgid, () -> marked(runId));
    }

    /**
     * SIGKILLs the group (when {@code pgid} is positive) and whatever {@code found} lists, again
     * and again while any is left, since a dying process may still fork. Returns how many listed
     * processes were killed.
     */
    private int killUntilGone(long pgid, java.util.function.Supplier<List<Long>> found) {
        int killed = 0;
        for (int round = 0; round < 50; round++) {
            boolean group = pgid > 0 && signal(pgid, Libc.SIGKILL);
            List<Long> left = found.get();
            for (long pid : left) {
                try {
                    Libc.kill(pid, Libc.SIGKILL);
                    killed++;
                } catch (Libc.Failure e) {
                    // Ended meanwhile.
                }
            }
            if (!group && left.isEmpty()) {
                return killed;
            }
            pause();
        }
        return killed;
    }

    /** Sends {@code signal} to the marked processes outside the group too. */
    public void signalAll(long pgid, String runId, int signal) {
        signal(pgid, signal);
        for (long pid : marked(runId)) {
            try {
                Libc.kill(pid, signal);
            } catch (Libc.Failure e) {
                // Ended meanwhile.
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
        return killUntilGone(0, () -> holders(pipes));
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
