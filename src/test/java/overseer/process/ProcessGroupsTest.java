package overseer.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signals to process groups: refused ones, and never one to a group whose leader was reaped. */
class ProcessGroupsTest {
    @TempDir
    Path tmp;

    /** kill(2) as the server calls it, recording each call; a group signal may be made to fail with EPERM. */
    private static final class RecordingKill implements ProcessGroup.Kill {
        final List<Long> targets = new CopyOnWriteArrayList<>();
        final boolean refuseGroups;

        RecordingKill(boolean refuseGroups) {
            this.refuseGroups = refuseGroups;
        }

        @Override
        public void send(long pid, int signal) throws Libc.Failure {
            targets.add(pid);
            if (pid < 0 && refuseGroups) {
                throw new Libc.Failure("kill", Libc.EPERM);
            }
            Libc.kill(pid, signal);
        }
    }

    private Launcher.Process spawn(String runId, String... argv) throws Exception {
        Launcher.Process p = new PosixSpawnLauncher()
                .start(new Launcher.Command(List.of(argv), List.of(ProcessGroups.MARKER + "=" + runId), tmp));
        p.closeStreams();
        return p;
    }

    @Test
    void aRefusedGroupSignalDoesNotEndSupervisionAndTheTimeoutStillHolds() throws Exception {
        String runId = UUID.randomUUID().toString();
        RecordingKill kill = new RecordingKill(true);
        Launcher.Process p = spawn(runId, "/bin/sleep", "600");
        Supervision.Outcome outcome = new Supervision(new ProcessGroups(kill))
                .await(p, runId, Optional.of(Duration.ofMillis(200)), Duration.ofMillis(200));
        assertThat(outcome.timeout()).isPresent();
        assertThat(outcome.status()).isEqualTo(new ExitStatus.Signaled(Libc.SIGTERM));
        // The group was tried, refused, and the leader reached by its marker instead.
        assertThat(kill.targets).contains(-p.pid(), p.pid());
    }

    @Test
    void aGroupWhoseLeaderWasReapedIsNeverSignalledAgain() throws Exception {
        String runId = UUID.randomUUID().toString();
        RecordingKill kill = new RecordingKill(false);
        ProcessGroups groups = new ProcessGroups(kill);
        Launcher.Process p = spawn(runId, "/bin/sleep", "600");
        assertThat(groups.signal(p.pid(), Libc.SIGCONT)).isTrue();
        Libc.kill(p.pid(), Libc.SIGKILL);
        p.exit().get(10, TimeUnit.SECONDS);
        kill.targets.clear();
        // Its id may belong to another group by now: nothing may be sent to it.
        assertThat(groups.signal(p.pid(), Libc.SIGCONT)).isFalse();
        groups.killAll(p.pid(), runId);
        assertThat(kill.targets).doesNotContain(-p.pid());
    }

    @Test
    void aGroupThatIsNotOursIsNotSignalled() {
        RecordingKill kill = new RecordingKill(false);
        assertThat(new ProcessGroups(kill).signal(1, Libc.SIGCONT)).isFalse();
        assertThat(kill.targets).isEmpty();
    }
}
