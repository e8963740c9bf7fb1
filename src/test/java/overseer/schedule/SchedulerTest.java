package overseer.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.MutableClock;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * Schedules firing in a real server whose clock the test moves: days of schedule in
 * milliseconds. The scheduler's own loop runs too; the test also ticks it after each move.
 */
class SchedulerTest {
    @TempDir
    Path tmp;

    TestRepo repo;
    TestServer server;
    MutableClock clock;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (repo != null) {
            repo.close();
        }
    }

    private void serve(Instant start, String... files) throws Exception {
        repo = TestRepo.create(tmp.resolve("repo"));
        for (int i = 0; i < files.length; i += 2) {
            repo.with(files[i], files[i + 1]);
        }
        repo.commit("jobs");
        clock = new MutableClock(start);
        restart();
    }

    private void restart() throws Exception {
        server = TestServer.on(repo.url(), tmp.resolve("data")).clock(clock).start();
    }

    /** Moves the clock to {@code end} in steps, ticking the scheduler after each. */
    private void run(Instant end, Duration step) {
        while (clock.instant().isBefore(end)) {
            Instant next = clock.instant().plus(step);
            clock.set(next.isAfter(end) ? end : next);
            server.overseer().scheduler().tick();
        }
    }

    /** The fire times ({@code scheduled_at}) of a job's scheduled executions, oldest first. */
    private List<String> fires(String job) throws Exception {
        JsonNode list = server.json("/jobs/" + job + "/executions?trigger=schedule&limit=500");
        List<String> fires = new ArrayList<>();
        list.forEach(e -> fires.addFirst(e.path("scheduled_at").asText()));
        return fires;
    }

    @Test
    void aDailyBerlinJobRunsOnceOnTheSpringForwardDayAt0330AndOnceOnTheFallBackDay() throws Exception {
        serve(Instant.parse("2026-03-27T12:00:00Z"), "nightly.yml", """
                description: no command, so no process
                schedule:
                  - {frequency: "30 2 * * *", timezone: Europe/Berlin}
                """);
        run(Instant.parse("2026-03-31T00:00:00Z"), Duration.ofMinutes(10));
        // 02:30 CET = 01:30Z; on 29 March 02:00-03:00 does not exist: 03:30 CEST = 01:30Z; then 00:30Z.
        assertThat(fires("nightly"))
                .containsExactly("2026-03-28T01:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z");
        JsonNode run = server.json("/jobs/nightly/2");
        assertThat(run.path("trigger").asText()).isEqualTo("schedule");
        assertThat(run.path("schedule").asText()).matches("[0-9a-f]{12}-0");
        clock.set(Instant.parse("2026-10-24T12:00:00Z"));
        server.overseer().scheduler().tick();
        int before = fires("nightly").size();
        run(Instant.parse("2026-10-27T00:00:00Z"), Duration.ofMinutes(10));
        // 25 October: 02:30 happens twice (CEST 00:30Z, then CET 01:30Z); it fires once, at the first.
        assertThat(fires("nightly").subList(before, fires("nightly").size()))
                .containsExactly("2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z");
    }

    @Test
    void aPeriodCountsFromItsStoredAnchorAcrossARestartAndFiresAreNeverRecordedTwice() throws Exception {
        serve(Instant.parse("2026-11-25T10:00:00.400Z"), "tick.yml", """
                schedule:
                  - {frequency: 90, vars: {label: every-90s}}
                vars:
                  - {name: label}
                command: echo {{ label }} "$OVERSEER_SCHEDULED_AT"
                """);
        run(Instant.parse("2026-11-25T10:05:00Z"), Duration.ofSeconds(7));
        assertThat(fires("tick"))
                .containsExactly("2026-11-25T10:01:30.400Z", "2026-11-25T10:03:00.400Z", "2026-11-25T10:04:30.400Z");
        JsonNode first = server.awaitFinished("tick", 1);
        assertThat(first.path("rendered").asText()).startsWith("echo every-90s");
        assertThat(server.get("/jobs/tick/1/stdout").body()).isEqualTo("every-90s 2026-11-25T10:01:30.400Z\n");
        // A reload with another commit keeps the schedule, and a restart keeps its anchor.
        repo.with("other.yml", "command: \"true\"\n").commit("another job");
        server.post("/config/sync", "");
        server.overseer().scheduler().tick();
        server.close();
        restart();
        run(Instant.parse("2026-11-25T10:07:00Z"), Duration.ofSeconds(7));
        assertThat(fires("tick")).hasSize(4).last().isEqualTo("2026-11-25T10:06:00.400Z");
        // A second scheduler on the same store, racing the first at the next fire: one execution.
        clock.set(Instant.parse("2026-11-25T10:07:30.400Z"));
        Scheduler second = new Scheduler(
                server.overseer().config()::active,
                server.overseer().executions()::enabled,
                server.overseer().store(),
                server.overseer().executions()::fire,
                clock,
                overseer.metrics.Metrics.none());
        second.sync();
        CountDownLatch go = new CountDownLatch(1);
        Thread a = Thread.ofVirtual()
                .start(() -> await(go, () -> server.overseer().scheduler().tick()));
        Thread b = Thread.ofVirtual().start(() -> await(go, second::tick));
        go.countDown();
        a.join();
        b.join();
        assertThat(fires("tick")).hasSize(5).last().isEqualTo("2026-11-25T10:07:30.400Z");
    }

    private static void await(CountDownLatch go, Runnable then) {
        try {
            go.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        then.run();
    }

    @Test
    void catchUpAfterAStopRunsNoneTheLastOrAllMissedFiresWithinTheGrace() throws Exception {
        String hourly = """
                description: no command
                schedule:
                  - {frequency: "0 * * * *", catchup: %s, misfire_grace: %d}
                """;
        serve(
                Instant.parse("2026-11-25T09:30:00Z"),
                "none.yml",
                hourly.formatted("none", 36000),
                "last.yml",
                hourly.formatted("last", 36000),
                "all.yml",
                hourly.formatted("all", 36000),
                "grace.yml",
                hourly.formatted("all", 5400));
        run(Instant.parse("2026-11-25T10:30:00Z"), Duration.ofMinutes(5));
        assertThat(fires("all")).containsExactly("2026-11-25T10:00:00.000Z");
        server.close();
        clock.set(Instant.parse("2026-11-25T13:30:00Z"));
        restart();
        assertThat(fires("none")).containsExactly("2026-11-25T10:00:00.000Z");
        assertThat(fires("last")).containsExactly("2026-11-25T10:00:00.000Z", "2026-11-25T13:00:00.000Z");
        assertThat(fires("all"))
                .containsExactly(
                        "2026-11-25T10:00:00.000Z",
                        "2026-11-25T11:00:00.000Z",
                        "2026-11-25T12:00:00.000Z",
                        "2026-11-25T13:00:00.000Z");
        // Only fires missed by less than 90 minutes.
        assertThat(fires("grace"))
                .containsExactly("2026-11-25T10:00:00.000Z", "2026-11-25T12:00:00.000Z", "2026-11-25T13:00:00.000Z");
        run(Instant.parse("2026-11-25T14:00:00Z"), Duration.ofMinutes(5));
        assertThat(fires("none")).last().isEqualTo("2026-11-25T14:00:00.000Z");
    }

    @Test
    void disablingStopsAtOnceAndEnablingDoesNotRunTheMissedFires() throws Exception {
        serve(Instant.parse("2026-11-25T09:59:00Z"), "often.yml", """
                description: no command
                schedule:
                  - {frequency: "*/10 * * * *", catchup: all}
                """);
        run(Instant.parse("2026-11-25T10:01:00Z"), Duration.ofSeconds(30));
        assertThat(fires("often")).containsExactly("2026-11-25T10:00:00.000Z");
        server.delete("/jobs/often");
        assertThat(server.json("/jobs/often")
                        .path("schedules")
                        .get(0)
                        .path("next_run")
                        .isNull())
                .isTrue();
        run(Instant.parse("2026-11-25T10:45:00Z"), Duration.ofSeconds(30));
        assertThat(fires("often")).hasSize(1);
        server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/often"))
                .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()));
        JsonNode schedule = server.json("/jobs/often").path("schedules").get(0);
        assertThat(schedule.path("next_run").asText()).isEqualTo("2026-11-25T10:50:00.000Z");
        assertThat(schedule.path("last_fire").asText()).isEqualTo("2026-11-25T10:00:00.000Z");
        run(Instant.parse("2026-11-25T10:55:00Z"), Duration.ofSeconds(30));
        assertThat(fires("often")).containsExactly("2026-11-25T10:00:00.000Z", "2026-11-25T10:50:00.000Z");
    }

    @Test
    void aSkipJobRecordsASkippedExecutionNamingTheRunningOne() throws Exception {
        serve(Instant.parse("2026-11-25T09:59:30Z"), "busy.yml", """
                command: sleep 30
                concurrency: 1
                overlap: skip
                schedule:
                  - {frequency: "* * * * *"}
                """);
        run(Instant.parse("2026-11-25T10:00:00Z"), Duration.ofSeconds(30));
        server.await("/jobs/busy/1", e -> e.path("status").asText().equals("start"));
        run(Instant.parse("2026-11-25T10:01:00Z"), Duration.ofSeconds(30));
        JsonNode skipped = server.json("/jobs/busy/2");
        assertThat(skipped.path("status").asText()).isEqualTo("skipped");
        assertThat(skipped.path("finished_at").isNull()).isFalse();
        assertThat(skipped.path("events").get(1).path("cause").asText())
                .isEqualTo("execution 1 of 'busy' is still running and its overlap policy is skip");
        server.put("/jobs/busy/1", "{\"event\": \"kill\"}");
    }

    @Test
    void waitingScheduledRunsStartByPriorityThenAge() throws Exception {
        Path order = tmp.resolve("order");
        String job = "command: echo %s >> " + order + "\nschedule:\n  - {frequency: \"0 * * * *\", priority: %d}\n";
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.with("blocker.yml", "command: sleep 30\n")
                .with("low.yml", job.formatted("low", 1))
                .with("high.yml", job.formatted("high", 9))
                .with("mid.yml", job.formatted("mid", 5))
                .commit("jobs");
        clock = new MutableClock(Instant.parse("2026-11-25T09:59:00Z"));
        server = TestServer.on(repo.url(), tmp.resolve("data"))
                .clock(clock)
                .maxConcurrent(1)
                .start();
        server.trigger("blocker", "{}");
        server.await("/jobs/blocker/1", e -> e.path("status").asText().equals("start"));
        run(Instant.parse("2026-11-25T10:00:00Z"), Duration.ofSeconds(30));
        for (String name : List.of("low", "high", "mid")) {
            assertThat(server.json("/jobs/" + name + "/1").path("status").asText())
                    .isEqualTo("queued");
        }
        server.put("/jobs/blocker/1", "{\"event\": \"kill\"}");
        for (String name : List.of("low", "high", "mid")) {
            server.awaitFinished(name, 1);
        }
        assertThat(java.nio.file.Files.readAllLines(order)).containsExactly("high", "mid", "low");
    }

    @Test
    void inRealTimeASecondlyScheduleFiresOnTimeWithItsFireTimeInTheEnvironment() throws Exception {
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.with("beat.yml", "command: echo \"$OVERSEER_SCHEDULED_AT\"\nschedule:\n  - {frequency: 1}\n")
                .commit("jobs");
        server = TestServer.on(repo.url(), tmp.resolve("data")).start();
        JsonNode third = server.awaitFinished("beat", 3);
        List<Instant> fires = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            JsonNode e = server.json("/jobs/beat/" + n);
            Instant at = Instant.parse(e.path("scheduled_at").asText());
            fires.add(at);
            // Created when due, never before (how soon after is measured by bench/run schedules).
            assertThat(Duration.between(at, Instant.parse(e.path("created_at").asText())))
                    .isBetween(Duration.ZERO, Duration.ofSeconds(5));
            assertThat(server.get("/jobs/beat/" + n + "/stdout").body().strip()).isEqualTo(at.toString());
        }
        assertThat(Duration.between(fires.get(0), fires.get(2))).isEqualTo(Duration.ofSeconds(2));
        assertThat(third.path("trigger").asText()).isEqualTo("schedule");
    }
}
