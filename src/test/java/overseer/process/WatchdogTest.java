package overseer.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's watchdog: it outlives its neighbours on the data directory, and comes back when killed. */
class WatchdogTest {
    @TempDir
    Path tmp;

    private Launcher.Process marked(Launcher launcher, String mark) throws Exception {
        Launcher.Process p = launcher.start(
                new Launcher.Command(List.of("/bin/sleep", "600"), List.of(Watchdog.VARIABLE + "=" + mark), tmp));
        p.closeStreams();
        return p;
    }

    /**
     * After a quick restart two watchdogs work in one data directory: the one of the server that
     * is gone still sees its end and kills that server's jobs, and the new one goes on watching.
     * (They shared one pipe, which the new server held open: the old watchdog never saw the end.)
     */
    @Test
    void theWatchdogOfTheServerBeforeEndsItsJobsBesideTheNextOne() throws Exception {
        PosixSpawnLauncher launcher = new PosixSpawnLauncher();
        Path dir = tmp.resolve("run");
        String before = "before-" + UUID.randomUUID();
        String now = "now-" + UUID.randomUUID();
        Watchdog previous = Watchdog.start(launcher, dir, before, Duration.ofDays(1));
        Launcher.Process left = marked(launcher, before);
        Watchdog current = Watchdog.start(launcher, dir, now, Duration.ofSeconds(2));
        try {
            Launcher.Process job = marked(launcher, now);
            previous.close();
            assertThat(left.exit().get(30, TimeUnit.SECONDS)).isEqualTo(new ExitStatus.Signaled(Libc.SIGKILL));
            // No beat comes: the current watchdog kills its own job within its limit.
            assertThat(job.exit().get(30, TimeUnit.SECONDS)).isEqualTo(new ExitStatus.Signaled(Libc.SIGKILL));
        } finally {
            current.close();
        }
    }

    /** A watchdog killed from outside is started again by the next beat, and kills as before. */
    @Test
    void aKilledWatchdogIsStartedAgainByTheNextBeat() throws Exception {
        PosixSpawnLauncher launcher = new PosixSpawnLauncher();
        String mark = "mark-" + UUID.randomUUID();
        Watchdog watchdog = Watchdog.start(launcher, tmp.resolve("run"), mark, Duration.ofDays(1));
        try {
            Launcher.Process job = marked(launcher, mark);
            long first = watchdog.pid();
            Libc.kill(first, Libc.SIGKILL);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (watchdog.pid() == first) {
                assertThat(watchdog.beat()).isTrue();
                assertThat(System.nanoTime())
                        .as("the watchdog is started again")
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(job.exit()).isNotDone();
            // The new one ends with the server, taking the marked job with it.
            watchdog.close();
            assertThat(job.exit().get(30, TimeUnit.SECONDS)).isEqualTo(new ExitStatus.Signaled(Libc.SIGKILL));
        } finally {
            watchdog.close();
        }
    }
}
