package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.process.Cgroups;
import overseer.testing.Processes;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Signals, time-outs and the guarantee that no process of a job outlives it. */
class ProcessControlTest {
    @TempDir
    Path tmp;

    TestRepo repo;
    TestServer server;

    private static final String SETTLED = """
              for p in $a $b $c; do until grep -qx sleep /proc/$p/comm; do sleep 0.01; done; echo $p; done
            """;

    /**
     * Escapes that keep the marker but leave the session, the group or the output. Each prints
     * its pid; the job goes on only once all three run {@code sleep}, so they have left by then.
     */
    private static final String KEPT = """
            command: |
              a=$(setsid sh -c 'exec sleep 320' >/dev/null 2>&1 & echo $!)
              b=$( ( setsid sleep 320 >/dev/null 2>&1 & echo $! ) )
              c=$(sleep 320 >/dev/null 2>&1 & echo $!)
            """ + SETTLED;

    /** The same escapes hiding the marker too: only a cgroup still holds them. */
    private static final String HIDDEN = """
            command: |
              a=$(setsid env -i sleep 321 >/dev/null 2>&1 & echo $!)
              b=$( ( env -i setsid sleep 321 >/dev/null 2>&1 & echo $! ) )
              c=$(env -u OVERSEER_RUN_ID sleep 321 >/dev/null 2>&1 & echo $!)
            """ + SETTLED;

    private List<Long> spawned = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (long pid : spawned) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @BeforeEach
    void start() throws Exception {
        repo = TestRepo.create(tmp.resolve("repo"));
        // Each job prints the pids of the processes it leaves behind, one per line, then waits.
        repo.with("background.yml", "command: sleep 600 & echo $!; sleep 600\n")
                .with("escapes.yml", """
                        command: |
                          setsid sh -c 'echo $$; exec sleep 600' &
                          (sh -c 'echo $$; exec sleep 600' &) ; sleep 600
                        """)
                .with("slow.yml", """
                        command: |
                          setsid sh -c 'echo $$; exec sleep 600' &
                          trap 'echo ignoring TERM' TERM; while true; do sleep 0.1; done
                        timeout: 1
                        """)
                .with("ticker.yml", "command: echo pid=$$; i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done\n")
                .with("quick.yml", "command: echo done\n")
                .with("nested.yml", """
                        command: |
                          c=$(awk '/ - cgroup2 /{print $5; exit}' /proc/self/mountinfo)$(sed -n 's/^0:://p' /proc/self/cgroup)
                          mkdir "$c/inner"
                          setsid sh -c 'echo $$ > "$1/inner/cgroup.procs"; echo $$; exec env -i sleep 600 >/dev/null 2>&1' sh "$c" &
                          sleep 0.5
                        """)
                .with("hider.yml", """
                        command: |
                          env -u OVERSEER_RUN_ID setsid sh -c 'echo $$; exec sleep 600' &
                          env -i setsid sh -c 'echo $$; exec sleep 600' &
                          sleep 0.5
                        """)
                .with("marked-complete.yml", KEPT)
                .with("marked-fail.yml", KEPT + "  exit 3\n")
                .with("marked-kill.yml", KEPT + "  sleep 600\n")
                .with("marked-terminate.yml", KEPT + "  sleep 600\n")
                .with("marked-time-out.yml", KEPT + "  sleep 600\ntimeout: 1\n")
                .with("hidden-complete.yml", HIDDEN)
                .with("hidden-fail.yml", HIDDEN + "  exit 3\n")
                .with("hidden-kill.yml", HIDDEN + "  sleep 600\n")
                .with("hidden-terminate.yml", HIDDEN + "  sleep 600\n")
                .with("hidden-time-out.yml", HIDDEN + "  sleep 600\ntimeout: 1\n")
                .commit("jobs");
        server = TestServer.on(repo.url(), tmp.resolve("data"))
                .killGrace(Duration.ofMillis(500))
                .start();
    }

    @AfterEach
    void stop() {
        server.close();
        repo.close();
    }

    private String stdout(String job, long n) throws Exception {
        return server.get("/jobs/" + job + "/" + n + "/stdout").body();
    }

    /** Waits until the job has printed {@code count} pids; returns them. */
    private List<Long> pids(String job, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            List<Long> pids = new ArrayList<>();
            for (String line : stdout(job, 1).split("\n")) {
                if (line.matches("\\d+")) {
                    pids.add(Long.parseLong(line));
                }
            }
            if (pids.size() >= count) {
                return pids;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(job + " did not print " + count + " pids: " + stdout(job, 1));
    }

    private static void assertAllGone(List<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pids.stream().anyMatch(Processes::alive) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(pids).noneMatch(Processes::alive);
    }

    private JsonNode event(String job, String body) throws Exception {
        var r = server.put("/jobs/" + job + "/1", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return TestServer.parse(r.body());
    }

    /**
     * Runs {@code job} to its end by {@code ending} (complete, fail, kill, terminate, time-out)
     * and checks that none of the three processes it left behind survives it.
     */
    private void endsWithNothingLeft(String job, String expected) throws Exception {
        server.trigger(job, "{}");
        List<Long> pids = pids(job, 3);
        spawned.addAll(pids);
        if (job.endsWith("-kill") || job.endsWith("-terminate")) {
            event(job, "{\"event\": \"" + job.substring(job.lastIndexOf('-') + 1) + "\"}");
        }
        assertThat(server.awaitFinished(job, 1).get("status").asText()).isEqualTo(expected);
        assertAllGone(pids);
    }

    @Test
    void markedProcessesInOtherSessionsDieWithACompletedJob() throws Exception {
        endsWithNothingLeft("marked-complete", "complete");
    }

    @Test
    void markedProcessesInOtherSessionsDieWithAFailedJob() throws Exception {
        endsWithNothingLeft("marked-fail", "fail");
    }

    @Test
    void markedProcessesInOtherSessionsDieWithAKilledJob() throws Exception {
        endsWithNothingLeft("marked-kill", "fail");
    }

    @Test
    void markedProcessesInOtherSessionsDieWithATerminatedJob() throws Exception {
        endsWithNothingLeft("marked-terminate", "fail");
    }

    @Test
    void markedProcessesInOtherSessionsDieWithATimedOutJob() throws Exception {
        endsWithNothingLeft("marked-time-out", "time-out");
    }

    private static void assumeCgroups() {
        assumeTrue(
                Cgroups.find() instanceof Cgroups.Found.Some,
                "no writable cgroup v2 hierarchy here: " + Cgroups.find());
    }

    @Test
    void aRunThatLeavesNothingTakesItsCgroupWithIt() throws Exception {
        assumeCgroups();
        for (int i = 1; i <= 3; i++) {
            server.trigger("quick", "{}");
        }
        for (int i = 1; i <= 3; i++) {
            server.awaitFinished("quick", i);
        }
        // The end removes the cgroup before it records the end, so none is left once all ended.
        Path base = ((Cgroups.Found.Some) Cgroups.find()).cgroups().base();
        try (var left = Files.list(base)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("quick-"));
        }
    }

    @Test
    void aProcessInACgroupTheJobMadeInsideItsOwnDiesWithIt() throws Exception {
        assumeCgroups();
        server.trigger("nested", "{}");
        List<Long> pids = pids("nested", 1);
        spawned.addAll(pids);
        assertThat(server.awaitFinished("nested", 1).get("status").asText()).isEqualTo("complete");
        assertAllGone(pids);
    }

    @Test
    void processesThatHidTheirMarkerDieWithACompletedJobInItsCgroup() throws Exception {
        assumeCgroups();
        endsWithNothingLeft("hidden-complete", "complete");
    }

    @Test
    void processesThatHidTheirMarkerDieWithAFailedJobInItsCgroup() throws Exception {
        assumeCgroups();
        endsWithNothingLeft("hidden-fail", "fail");
    }

    @Test
    void processesThatHidTheirMarkerDieWithAKilledJobInItsCgroup() throws Exception {
        assumeCgroups();
        endsWithNothingLeft("hidden-kill", "fail");
    }

    @Test
    void processesThatHidTheirMarkerDieWithATerminatedJobInItsCgroup() throws Exception {
        assumeCgroups();
        endsWithNothingLeft("hidden-terminate", "fail");
    }

    @Test
    void processesThatHidTheirMarkerDieWithATimedOutJobInItsCgroup() throws Exception {
        assumeCgroups();
        endsWithNothingLeft("hidden-time-out", "time-out");
    }

    @Test
    void killTakesTheBackgroundGrandchildToo() throws Exception {
        server.trigger("background", "{}");
        List<Long> pids = pids("background", 1);
        assertThat(pids).allMatch(Processes::alive);
        event("background", "{\"event\": \"kill\", \"cause\": \"test\"}");
        JsonNode done = server.awaitFinished("background", 1);
        assertThat(done.get("status").asText()).isEqualTo("fail");
        assertThat(done.get("state").asText()).as("a kill asked for").isEqualTo("killed");
        assertThat(server.json("/jobs/background/1/fail").get("cause").asText())
                .isEqualTo("killed by signal 9 (SIGKILL)");
        assertThat(server.json("/jobs/background/1/kill").get("cause").asText()).isEqualTo("test");
        assertAllGone(pids);
    }

    @Test
    void processesThatHidTheirMarkerDieWithTheJobByTheOutputTheyHold() throws Exception {
        server.trigger("hider", "{}");
        List<Long> pids = pids("hider", 2);
        JsonNode done = server.awaitFinished("hider", 1);
        assertThat(done.get("status").asText()).isEqualTo("complete");
        assertAllGone(pids);
    }

    @Test
    void processesThatLeftTheGroupDieWithTheJob() throws Exception {
        server.trigger("escapes", "{}");
        List<Long> pids = pids("escapes", 2);
        assertThat(pids).allMatch(Processes::alive);
        event("escapes", "{\"event\": \"kill\"}");
        server.awaitFinished("escapes", 1);
        assertAllGone(pids);
    }

    @Test
    void aTimeOutTerminatesThenKillsEverything() throws Exception {
        server.trigger("slow", "{}");
        List<Long> pids = pids("slow", 1);
        JsonNode done = server.awaitFinished("slow", 1);
        assertThat(done.get("status").asText()).isEqualTo("time-out");
        assertThat(done.get("events"))
                .extracting(e -> e.get("name").asText())
                .containsExactly("queued", "start", "time-out");
        assertThat(server.json("/jobs/slow/1/time-out").get("cause").asText())
                .isEqualTo("timed out after 1 s; sent SIGTERM, then SIGKILL after 0.5 s");
        assertThat(stdout("slow", 1)).contains("ignoring TERM");
        assertAllGone(pids);
    }

    @Test
    void stopPausesAndContinueResumesTheOutput() throws Exception {
        server.trigger("ticker", "{}");
        long shell = tickerPid();
        // States, not time windows: SIGSTOP is seen in /proc as the shell stopped ('T'), and
        // SIGCONT as its output growing again.
        event("ticker", "{\"event\": \"stop\"}");
        awaitUntil("the shell stopped", () -> Processes.state(shell) == 'T');
        assertThat(server.json("/jobs/ticker/1").get("status").asText()).isEqualTo("stop");
        int paused = stdout("ticker", 1).length();
        event("ticker", "{\"event\": \"continue\"}");
        awaitUntil("the output grew again", () -> stdout("ticker", 1).length() > paused);
        assertThat(Processes.state(shell)).isNotEqualTo('T');
        event("ticker", "{\"event\": \"terminate\", \"cause\": \"enough\"}");
        JsonNode done = server.awaitFinished("ticker", 1);
        assertThat(server.json("/jobs/ticker/1/fail").get("cause").asText()).isEqualTo("killed by signal 15 (SIGTERM)");
        assertThat(done.get("exit_code").isNull()).isTrue();
    }

    /** The ticker's shell, from its first line ({@code pid=N}). */
    private long tickerPid() throws Exception {
        String[] first = new String[1];
        awaitUntil("the ticker printed its pid", () -> {
            first[0] = stdout("ticker", 1).lines().findFirst().orElse("");
            return first[0].startsWith("pid=");
        });
        return Long.parseLong(first[0].substring(4));
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitUntil(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void customEventsSetTheStatusAndFinishedExecutionsRefuseEvents() throws Exception {
        server.trigger("ticker", "{}");
        server.await("/jobs/ticker/1", e -> e.get("status").asText().equals("start"));
        JsonNode e = event("ticker", "{\"event\": \"half-way\", \"cause\": \"50%\"}");
        assertThat(e.get("status").asText()).isEqualTo("half-way");
        assertThat(server.json("/jobs/ticker/1/half-way").get("cause").asText()).isEqualTo("50%");
        assertThat(server.put("/jobs/ticker/1", "{\"event\": \"Bad Name\"}").statusCode())
                .isEqualTo(400);
        assertThat(server.put("/jobs/ticker/1", "{\"event\": \"complete\"}").statusCode())
                .isEqualTo(400);
        event("ticker", "{\"event\": \"kill\"}");
        server.awaitFinished("ticker", 1);
        assertThat(server.put("/jobs/ticker/1", "{\"event\": \"kill\"}").statusCode())
                .isEqualTo(409);
        assertThat(server.put("/jobs/ticker/9", "{\"event\": \"kill\"}").statusCode())
                .isEqualTo(404);
    }

    @Test
    void orphansAreReapedNotLeftAsZombies() throws Exception {
        for (int i = 1; i <= 3; i++) {
            server.trigger("quick", "{}");
        }
        for (int i = 1; i <= 3; i++) {
            server.awaitFinished("quick", i);
        }
        server.trigger("escapes", "{}");
        pids("escapes", 2);
        event("escapes", "{\"event\": \"kill\"}");
        server.awaitFinished("escapes", 1);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (zombieChildren() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(zombieChildren()).isZero();
    }

    private static long zombieChildren() throws IOException {
        long self = ProcessHandle.current().pid();
        long zombies = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (rest[0].equals("Z") && Long.parseLong(rest[1]) == self) {
                        zombies++;
                    }
                } catch (IOException gone) {
                    // Ended meanwhile.
                }
            }
        }
        return zombies;
    }
}
