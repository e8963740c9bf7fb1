package overseer.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What /proc says about a process. */
public final class Processes {
    private Processes() {}

    /** Running or sleeping: not gone and not a zombie waiting to be reaped. */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException gone) {
            return false;
        }
    }

    /** The state letter of /proc/<pid>/stat ('R', 'S', 'T' for stopped, 'Z'...), or '-' when gone. */
    public static char state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException gone) {
            return '-';
        }
    }

    /** Waits at most 5 s for every one of {@code pids} to be gone (a SIGKILL lands asynchronously); true if they are. */
    public static boolean awaitGone(java.util.List<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
        while (pids.stream().anyMatch(Processes::alive)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
