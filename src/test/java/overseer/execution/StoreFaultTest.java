package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.service.Supervisor;
import overseer.testing.LogLines;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** One failed store write on the event channel and at an execution's end: refused or retried, once, never lost. */
class StoreFaultTest {
    static final Supervisor.Settings QUICK = new Supervisor.Settings(
            Duration.ofMillis(50), Duration.ofMillis(200), 3, Duration.ofSeconds(30), Duration.ofMinutes(10));

    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty().withFaults();

    @Test
    void anEventTheStoreFailsToRecordIsRefusedToTheJobAndTheNextOneIsRecorded() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("steps.yml", """
                            command: 'event first; echo "first=$?"; event second; echo "second=$?"'
                            """).commit("a job with events");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            fixture.faults().failCall("event", 1);
            server.trigger("steps", "{}");
            JsonNode done = server.awaitFinished("steps", 1);
            assertThat(done.path("status").asText()).isEqualTo("complete");
            assertThat(server.get("/jobs/steps/1/stdout").body()).isEqualTo("first=1\nsecond=0\n");
            assertThat(done.findValuesAsText("name")).contains("second").doesNotContain("first");
            assertThat(fixture.faults().failures("event")).isEqualTo(1);
            // The event pipe goes on reading: a later execution's events are recorded too.
            server.trigger("steps", "{}");
            assertThat(server.awaitFinished("steps", 2).findValuesAsText("name"))
                    .contains("first", "second");
            assertThat(log.errors("injected")).hasSizeLessThanOrEqualTo(1);
        }
    }

    /**
     * A run whose end the store refused for good (StaleState: a write made after the lease ran
     * out, by a node that then took it back) leaves its row RUNNING under this node, with nothing
     * here to end it: the engine's look at the rows it holds ends it lost, and the job's place is
     * free again. It stayed running for good (found by review).
     */
    @Test
    void aRunningRowNothingHereRunsEndsLostAndFreesItsPlace() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("quick.yml", "concurrency: 1\ncommand: echo hi\n").commit("a job");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            fixture.faults()
                    .failCalls(
                            "finished",
                            1,
                            1,
                            () -> new overseer.store.StaleState("store: injected: the lease ran out"));
            server.trigger("quick", "{}");
            JsonNode lost = server.awaitFinished("quick", 1);
            assertThat(lost.path("status").asText()).isEqualTo("lost");
            assertThat(lost.toString()).contains("nothing here runs it any more");
            server.trigger("quick", "{}");
            assertThat(server.awaitFinished("quick", 2).path("status").asText()).isEqualTo("complete");
            assertThat(log.containing("not recorded further")).hasSize(1);
        }
    }

    @Test
    void anEndTheStoreFailsToRecordOnceIsRecordedOnItsRetry() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("quick.yml", "command: echo hi\n").commit("a job");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            fixture.faults().failCall("finished", 1);
            server.trigger("quick", "{}");
            JsonNode done = server.awaitFinished("quick", 1);
            assertThat(done.path("status").asText()).isEqualTo("complete");
            assertThat(done.findValuesAsText("name")).containsOnlyOnce("complete");
            assertThat(fixture.faults().failures("finished")).isEqualTo(1);
            assertThat(log.containing("end not recorded, retrying")).hasSize(1);
            // And the next execution ends at its first try.
            server.trigger("quick", "{}");
            assertThat(server.awaitFinished("quick", 2).path("status").asText()).isEqualTo("complete");
            assertThat(fixture.faults().failures("finished")).isEqualTo(1);
        }
    }

    /**
     * The end is committed but reported as failed (a connection that broke before the answer to
     * its COMMIT came, as PostgresOutageJarIT saw): the retry finds the row ended with this very
     * event and takes it as recorded. It threw StaleState out of the run, which left the slot
     * taken and the waiters waiting (found by CI).
     */
    @Test
    void anEndCommittedButReportedAsFailedIsRecordedOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("quick.yml", "command: echo hi\n").commit("a job");
            TestServer server =
                    fixture.start(settings -> settings.services(QUICK).maxConcurrent(1));
            answerLostAfterCommit("finished");
            server.trigger("quick", "{}");
            JsonNode done = server.awaitFinished("quick", 1);
            assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "complete");
            assertThat(log.containing("end was recorded after all")).hasSize(1);
            // Its slot was given back: the only one, so the next execution runs.
            server.trigger("quick", "{}");
            assertThat(server.awaitFinished("quick", 2).path("status").asText()).isEqualTo("complete");
            assertThat(log.containing("StaleState")).isEmpty();
        }
    }

    /**
     * A trigger's execution is committed but reported as failed: it is answered 201 and runs,
     * once. It was answered 503 while its row stayed queued with nothing to run it until the next
     * start, and a client that sent it again got a second execution.
     */
    @Test
    void aTriggerCommittedButReportedAsFailedIsAnsweredAndRuns() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("quick.yml", "command: echo hi\n").commit("a job");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            answerLostAfterCommit("createAll");
            var answer = server.postJson("/jobs/quick", "{}");
            assertThat(answer.statusCode()).isEqualTo(201);
            assertThat(answer.body()).contains("\"execution\":1");
            assertThat(server.awaitFinished("quick", 1).findValuesAsText("name"))
                    .containsExactly("queued", "start", "complete");
            assertThat(log.containing("quick/1 was recorded after all")).hasSize(1);
        }
    }

    /**
     * A scheduled fire committed but reported as failed runs, once: the scheduler tried it again,
     * found its fire recorded already, took it as a repeat, and nothing ran it until the next start.
     */
    @Test
    void aFireCommittedButReportedAsFailedRunsOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("a.yml", "command: \"true\"\n").commit("no schedule yet");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            answerLostAfterCommit("createAll");
            repo.with("tick.yml", """
                            command: echo tick
                            schedule:
                              - frequency: 1
                            """).commit("a job every second");
            assertThat(server.post("/config/sync", "").statusCode()).isEqualTo(200);
            JsonNode first = server.awaitFinished("tick", 1);
            assertThat(first.findValuesAsText("name")).containsExactly("queued", "start", "complete");
            assertThat(server.awaitFinished("tick", 2).findValuesAsText("name"))
                    .containsExactly("queued", "start", "complete");
            assertThat(log.containing("tick/1 was recorded after all")).hasSize(1);
        }
    }

    /**
     * A retry committed but reported as failed runs, once: its row stayed queued with nothing to
     * run it until the next start, and its first execution said it was not retried.
     */
    @Test
    void aRetryCommittedButReportedAsFailedRuns() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("broken.yml", "command: exit 4\nretry: {times: 1, delay: 0.1}\n")
                    .commit("a job");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            // The trigger's is the first createAll; its retry's the second.
            fixture.faults()
                    .failAfterCall(
                            "createAll", 2, () -> new overseer.store.StoreException("connection lost at COMMIT", null));
            server.trigger("broken", "{}");
            assertThat(server.awaitFinished("broken", 1).path("retry_error").isNull())
                    .isTrue();
            JsonNode retry = server.awaitFinished("broken", 2);
            assertThat(retry.path("trigger").asText()).isEqualTo("retry");
            assertThat(retry.findValuesAsText("name")).containsExactly("queued", "start", "fail");
            assertThat(log.containing("broken/2 was recorded after all")).hasSize(1);
        }
    }

    /**
     * A kill of a queued execution is committed but reported as failed: it is answered as done
     * and the execution never runs. It was answered 503, and the execution, cancelled in the
     * store, was started once a slot was free and failed against its own row.
     */
    @Test
    void aCancelCommittedButReportedAsFailedIsAnswered() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            TestServer server = holdTheOnlySlot(repo);
            server.trigger("quick", "{}");
            answerLostAfterCommit("cancelled");
            assertThat(server.put("/jobs/quick/1", "{\"event\": \"kill\"}").statusCode())
                    .isEqualTo(200);
            assertThat(server.json("/jobs/quick/1").path("state").asText()).isEqualTo("cancelled");
            // A later execution of the job runs once the slot is free: the cancelled one gave its place back.
            server.trigger("quick", "{}");
            server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
            assertThat(server.awaitFinished("quick", 2).path("status").asText()).isEqualTo("complete");
            assertThat(server.json("/jobs/quick/1").findValuesAsText("name")).doesNotContain("start");
            assertThat(log.containing("cancel was recorded after all")).hasSize(1);
            assertThat(log.containing("StaleState")).isEmpty();
        }
    }

    /**
     * A kill of a starting execution (its start record held inside the store) is committed but
     * reported as failed: it is acknowledged and applied when the start is recorded. It was
     * answered 503, though kept in the row and sent anyway.
     */
    @Test
    void aKillOfAStartingExecutionCommittedButReportedAsFailedIsAcknowledged() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("hold.yml", "command: sleep 600\n").commit("a job");
        TestServer server = fixture.start(settings -> settings.services(QUICK));
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        fixture.faults().holdCall("started", 1, inside, release);
        answerLostAfterCommit("signalPending");
        server.trigger("hold", "{}");
        try {
            assertThat(inside.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(server.put("/jobs/hold/1", "{\"event\": \"kill\"}").statusCode())
                    .isEqualTo(200);
        } finally {
            release.countDown();
        }
        JsonNode done = server.awaitFinished("hold", 1);
        assertThat(done.path("state").asText()).isEqualTo("killed");
        assertThat(done.findValuesAsText("name")).containsOnlyOnce("kill");
    }

    /**
     * A job's event is committed but reported as failed: the job is told it was recorded (it was
     * refused with exit 1, and a job that sent it again would have recorded it twice).
     */
    @Test
    void anEventCommittedButReportedAsFailedIsAcknowledgedOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("steps.yml", """
                            command: 'event first; echo "first=$?"'
                            """).commit("a job with an event");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            answerLostAfterCommit("event");
            server.trigger("steps", "{}");
            JsonNode done = server.awaitFinished("steps", 1);
            assertThat(server.get("/jobs/steps/1/stdout").body()).isEqualTo("first=0\n");
            assertThat(done.findValuesAsText("name")).containsOnlyOnce("first");
            assertThat(log.containing("event 'first' was recorded after all")).hasSize(1);
        }
    }

    /**
     * A kill's record is committed but reported as failed: the kill is sent and acknowledged. It
     * was answered 503 and never sent, so the job ran on with a kill in its events.
     */
    @Test
    void aKillCommittedButReportedAsFailedIsSent() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("hold.yml", "command: sleep 600\n").commit("a job");
        TestServer server = fixture.start(settings -> settings.services(QUICK));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        // The row says started before the run has its process group: a kill in between is
        // kept as a starting one's (signalPending). Either write loses its answer.
        answerLostAfterCommit("event");
        answerLostAfterCommit("signalPending");
        var answer = server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        assertThat(answer.statusCode()).isEqualTo(200);
        JsonNode done = server.awaitFinished("hold", 1);
        assertThat(done.path("state").asText()).isEqualTo("killed");
        assertThat(done.findValuesAsText("name")).containsOnlyOnce("kill");
        assertThat(fixture.faults().failures("event") + fixture.faults().failures("signalPending"))
                .isEqualTo(1);
    }

    /**
     * The record of {@code start} (the process is there) is committed but reported as failed: the
     * run finds the row RUNNING and goes on, once. It killed the process and then failed against
     * the row it had moved itself, which stayed running until the next start marked it lost.
     */
    @Test
    void aRunningRecordCommittedButReportedAsFailedRunsOn() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            repo.with("quick.yml", "command: echo hi\n").commit("a job");
            TestServer server = fixture.start(settings -> settings.services(QUICK));
            answerLostAfterCommit("started");
            server.trigger("quick", "{}");
            JsonNode done = server.awaitFinished("quick", 1);
            assertThat(done.path("status").asText()).isEqualTo("complete");
            assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "complete");
            assertThat(server.get("/jobs/quick/1/stdout").body()).isEqualTo("hi\n");
            assertThat(log.containing("start was recorded after all")).hasSize(1);
        }
    }

    /**
     * The queue's claim of a queued execution is committed but reported as failed (a connection
     * that broke before the answer to its COMMIT came): the next round finds the row STARTING
     * while the server still has it queued, and starts it, once; it was left STARTING with
     * nothing to run it until the next start recorded it lost.
     */
    @Test
    void aClaimCommittedButReportedAsFailedRunsOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            TestServer server = holdTheOnlySlot(repo);
            answerLostAfterCommit("claim");
            // Queued behind hold, its start is a commit of its own once hold ends.
            server.trigger("quick", "{}");
            server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
            JsonNode done = server.awaitFinished("quick", 1);
            assertThat(done.path("status").asText()).isEqualTo("complete");
            assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "complete");
            assertThat(server.get("/jobs/quick/1/stdout").body()).isEqualTo("hi\n");
            assertThat(log.containing("claim was recorded after all")).hasSize(1);
            assertThat(fixture.faults().failures("claim")).isEqualTo(1);
        }
    }

    /**
     * A trigger whose commit's answer is lost, and whose look-up after it fails too, is answered
     * 503 while its row is queued: the queue's claim finds the row nobody here holds and runs
     * it, once; it waited until the next start.
     */
    @Test
    void aQueuedExecutionNobodyHoldsIsAdoptedByTheQueueAndRunsOnce() throws Exception {
        TestRepo repo = fixture.repo();
        try (LogLines log = LogLines.capture()) {
            TestServer server = holdTheOnlySlot(repo);
            answeredUnavailableAlthoughStored(server, "quick");
            assertThat(server.json("/jobs/quick/1").get("status").asText()).isEqualTo("queued");
            server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
            JsonNode done = server.awaitFinished("quick", 1);
            assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "complete");
            assertThat(log.containing("found queued with no one to run it")).hasSize(1);
        }
    }

    /**
     * The queue's claim takes a row whose trigger has committed it and not yet queued it here
     * (the trigger is held right after its commit): the claim keeps it aside, STARTING, and once
     * its trigger queues it, it runs once, without a write to give it back.
     */
    @Test
    void aRowClaimedBeforeItsTriggerQueuedItWaitsForItAndRunsOnce() throws Exception {
        TestRepo repo = fixture.repo();
        TestServer server = holdTheOnlySlot(repo);
        java.util.concurrent.CountDownLatch committed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        fixture.faults().holdAfterCall("createAll", 1, committed, release);
        Thread trigger = Thread.ofVirtual().start(() -> {
            try {
                server.trigger("quick", "{}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(committed.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        server.awaitFinished("hold", 1);
        // The slot is free from now on: the next claim (the queue's periodic round) takes quick/1
        // while its trigger is held.
        int claims = fixture.faults().calls("claim");
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (fixture.faults().calls("claim") == claims) {
            assertThat(System.nanoTime()).as("the queue claims again").isLessThan(deadline);
            Thread.sleep(20);
        }
        release.countDown();
        trigger.join();
        JsonNode done = server.awaitFinished("quick", 1);
        assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "complete");
        assertThat(fixture.faults().calls("backToQueue")).isZero();
    }

    /**
     * A trigger admitted at once whose commit's answer is lost, and whose look-up after it fails
     * too, is answered 503 while its row is STARTING with nothing here to start it: the queue's
     * periodic look at the store ends it {@code lost}, as a restart would, so that it does not
     * hold its job's only place; it held it until the next start.
     */
    @Test
    void aStartingRowNobodyHoldsEndsLostAndFreesItsJobsPlace() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("single.yml", "command: echo hi\nconcurrency: 1\n").commit("a job");
        TestServer server = fixture.start(settings -> settings.services(QUICK));
        answeredUnavailableAlthoughStored(server, "single");
        JsonNode lost = server.awaitFinished("single", 1);
        assertThat(lost.get("status").asText()).isEqualTo("lost");
        assertThat(server.json("/jobs/single/1/lost").get("cause").asText()).startsWith("nothing started it");
        server.trigger("single", "{}");
        assertThat(server.awaitFinished("single", 2).get("status").asText()).isEqualTo("complete");
    }

    /**
     * A trigger admitted at once is stored STARTING by the commit that creates it: no commit of
     * its own before the spawn, and its answer is what that commit wrote (no read after it).
     * Once a slot is taken, the next waits in the queue and moves to STARTING through the
     * queue's claim, not a commit of its own.
     */
    @Test
    void anExecutionAdmittedAtOnceStartsWithoutACommitOfItsOwn() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("quick.yml", "command: echo hi\n")
                .with("hold.yml", "command: sleep 600\n")
                .commit("jobs");
        TestServer server = fixture.start(settings -> settings.services(QUICK).maxConcurrent(1));
        int reads = fixture.faults().calls("events") + fixture.faults().calls("deliveries");
        var answer = server.postJson("/jobs/quick", "{}");
        assertThat(answer.statusCode()).isEqualTo(201);
        assertThat(fixture.faults().calls("events") + fixture.faults().calls("deliveries"))
                .isEqualTo(reads);
        assertThat(answer.body()).contains("\"queued\"");
        assertThat(server.awaitFinished("quick", 1).findValuesAsText("name"))
                .containsExactly("queued", "start", "complete");
        assertThat(fixture.faults().calls("starting")).isZero();

        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        server.trigger("quick", "{}");
        assertThat(server.json("/jobs/quick/2").get("status").asText()).isEqualTo("queued");
        int claims = fixture.faults().calls("claim");
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        assertThat(server.awaitFinished("quick", 2).get("status").asText()).isEqualTo("complete");
        assertThat(fixture.faults().calls("starting")).isZero();
        assertThat(fixture.faults().calls("claim")).isGreaterThan(claims);
    }

    /**
     * The job's process runs before its start is committed: an event it sends meanwhile waits for
     * that record and follows {@code start}; it was recorded before it, and its webhook went out
     * first (WebhookTest saw "one" before "start"). The start is held inside its store write.
     */
    @Test
    void anEventSentBeforeTheStartIsRecordedFollowsTheStart() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("early.yml", "command: event one; echo done\n").commit("a job");
        TestServer server = fixture.start(settings -> settings.services(QUICK));
        ch.qos.logback.classic.Logger lifecycle =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Lifecycle.class);
        ch.qos.logback.classic.Level level = lifecycle.getLevel();
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (LogLines log = LogLines.capture()) {
            lifecycle.setLevel(ch.qos.logback.classic.Level.DEBUG);
            fixture.faults().holdCall("started", 1, inside, release);
            server.trigger("early", "{}");
            try {
                assertThat(inside.await(20, java.util.concurrent.TimeUnit.SECONDS))
                        .isTrue();
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (log.containing("event 'one' waits for its start").isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(log.containing("event 'one' waits for its start")).hasSize(1);
            } finally {
                release.countDown();
            }
            JsonNode done = server.awaitFinished("early", 1);
            assertThat(done.findValuesAsText("name")).containsExactly("queued", "start", "one", "complete");
        } finally {
            lifecycle.setLevel(level);
        }
    }

    /** The next call of {@code method} commits and then fails, as a connection lost before the answer to its COMMIT. */
    /**
     * Triggers {@code job} while the answer to its commit is lost and the look-up after it fails
     * too: the trigger is answered 503, and its execution is stored.
     */
    private void answeredUnavailableAlthoughStored(TestServer server, String job) throws Exception {
        answerLostAfterCommit("createAll");
        fixture.faults().failCall("executions", 1);
        assertThat(server.postJson("/jobs/" + job, "{}").statusCode()).isEqualTo(503);
    }

    /**
     * A trigger of an {@code overlap: replace} job whose commit was made but answered as failed:
     * the queued execution its transaction cancelled is released here too (it stayed in this
     * server's queue for good, and with it nothing started at once any more).
     */
    @Test
    void aReplaceCommittedButReportedAsFailedReleasesTheExecutionItCancelled() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("newest.yml", "command: sleep 30\nconcurrency: 1\noverlap: replace\n");
        TestServer server = holdTheOnlySlot(repo);
        server.trigger("newest", "{}"); // newest/1 waits for the slot
        answerLostAfterCommit("createAll");
        server.trigger("newest", "{}"); // newest/2, recorded after all, cancelled newest/1
        assertThat(server.awaitFinished("newest", 1).get("status").asText()).isEqualTo("fail");
        assertThat(server.json("/jobs/newest/1/kill").get("cause").asText()).isEqualTo("replaced by execution 2");
        assertThat(server.gauge("overseer_queue_depth")).isEqualTo(1.0);
        server.put("/jobs/hold/1", "{\"event\": \"kill\"}");
        server.await("/jobs/newest/2", e -> e.get("status").asText().equals("start"));
        server.put("/jobs/newest/2", "{\"event\": \"kill\"}");
    }

    private void answerLostAfterCommit(String method) {
        fixture.faults()
                .failAfterCall(method, 1, () -> new overseer.store.StoreException("connection lost at COMMIT", null));
    }

    /** A server with one running slot, taken by hold/1 (sleep 600); quick echoes hi. */
    private TestServer holdTheOnlySlot(TestRepo repo) throws Exception {
        repo.with("quick.yml", "command: echo hi\n")
                .with("hold.yml", "command: sleep 600\n")
                .commit("jobs");
        TestServer server = fixture.start(settings -> settings.services(QUICK).maxConcurrent(1));
        server.trigger("hold", "{}");
        server.await("/jobs/hold/1", e -> e.get("status").asText().equals("start"));
        return server;
    }
}
