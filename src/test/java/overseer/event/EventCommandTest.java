package overseer.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** The {@code event} helper from lib-scripts, run by real jobs against a real server. */
class EventCommandTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with("progress.yml", """
                        command: |
                          event fetched "12 rows" from db
                          sh -c 'sh -c "event grandchild deep down"'
                          event published
                        """)
                .with("bad.yml", """
                        command: |
                          event 'Bad Name' 2>&1; echo "exit=$?"
                          event start 2>&1; echo "exit=$?"
                          event 2>&1; echo "exit=$?"
                          OVERSEER_EVENTS=/nonexistent/pipe event x 2>&1; echo "exit=$?"
                          mkfifo "$TMPDIR/silent"
                          OVERSEER_EVENTS="$TMPDIR/silent" OVERSEER_EVENT_TIMEOUT=1 event x 2>&1; echo "exit=$?"
                        """)
                .with("impostor.yml", """
                        command: OVERSEER_JOB=progress OVERSEER_EXECUTION={{ n }} OVERSEER_TOKEN={{ token }} event late 2>&1; echo "exit=$?"
                        vars:
                          - {name: n, type: int, required: true}
                          - {name: token, required: true}
                        """)
                .with("token.yml", "command: echo \"$OVERSEER_TOKEN\"\n")
                .commit("jobs");
        server = fixture.start(this::withTmpdir);
    }

    /** Jobs make their scratch files in the test's directory, removed after it. */
    private TestServer.Builder withTmpdir(TestServer.Builder settings) {
        return settings.environment(java.util.Map.of("TMPDIR", fixture.tmp().toString()));
    }

    @Test
    void eventsFromTheJobAndAGrandchildAreRecordedInOrderWithCausesAndSetTheStatus() throws Exception {
        server.trigger("progress", "{}");
        JsonNode done = server.awaitFinished("progress", 1);
        assertThat(done.path("status").asText()).isEqualTo("complete");
        List<String> events = new ArrayList<>();
        done.path("events")
                .forEach(e -> events.add(e.path("name").asText() + "|"
                        + e.path("cause").asText("") + "|" + e.path("source").asText()));
        assertThat(events)
                .containsExactly(
                        "queued|triggered by api|api",
                        "start||overseer",
                        "fetched|12 rows from db|job",
                        "grandchild|deep down|job",
                        "published||job",
                        "complete||overseer");
        assertThat(server.get("/jobs/progress/1/output").body()).isEmpty();
    }

    @Test
    void theStatusFollowsTheLatestEventWhileItRuns() throws Exception {
        repo.with("slow.yml", "command: event halfway; sleep 30\n").commit("slow");
        server.post("/config/sync", "");
        server.trigger("slow", "{}");
        JsonNode running =
                server.await("/jobs/slow/1", e -> e.path("status").asText().equals("halfway"));
        assertThat(running.path("finished_at").isNull()).isTrue();
        server.put("/jobs/slow/1", "{\"event\": \"kill\"}");
        server.awaitFinished("slow", 1);
    }

    @Test
    void badNamesReservedNamesNoArgumentsAndAnUnreachableServerFailWithOneLine() throws Exception {
        server.trigger("bad", "{}");
        server.awaitFinished("bad", 1);
        String[] lines = server.get("/jobs/bad/1/stdout").body().split("\n");
        assertThat(lines[0]).startsWith("event: event name 'Bad Name' must match");
        assertThat(lines[1]).isEqualTo("exit=1");
        assertThat(lines[2]).startsWith("event: event name 'start' must match");
        assertThat(lines[3]).isEqualTo("exit=1");
        assertThat(lines[4]).startsWith("usage: event <name> [cause...]");
        assertThat(lines[5]).isEqualTo("exit=2");
        assertThat(lines[6]).startsWith("event: the Overseer server is unreachable");
        assertThat(lines[7]).isEqualTo("exit=3");
        assertThat(lines[8]).startsWith("event: no answer from the Overseer server within 1 s");
        assertThat(lines[9]).isEqualTo("exit=3");
        assertThat(lines).hasSize(10);
        assertThat(server.json("/jobs/bad/1").path("events")).hasSize(3);
    }

    @Test
    void aFinishedExecutionTakesNoMoreEventsEvenWithItsToken() throws Exception {
        server.trigger("token", "{}");
        server.awaitFinished("token", 1);
        String token = server.get("/jobs/token/1/stdout").body().strip();
        server.trigger("progress", "{}");
        server.awaitFinished("progress", 1);
        server.trigger("impostor", "{\"n\": 1, \"token\": \"" + token + "\"}");
        server.awaitFinished("impostor", 1);
        String out = server.get("/jobs/impostor/1/stdout").body();
        assertThat(out)
                .contains("is not running, or OVERSEER_TOKEN is not its token")
                .contains("exit=1");
        assertThat(server.json("/jobs/progress/1").path("events")).hasSize(6);
    }

    @Test
    void signalEventsCountTowardsTheCapAndPastItEveryEventIsRefusedAndNotStored() throws Exception {
        repo.with("chatty.yml", """
                        command: |
                          event one
                          for i in 1 2 3; do event continue 2>&1; echo "exit=$?"; done
                          event late 2>&1; echo "exit=$?"
                        """).commit("chatty");
        fixture.stop();
        server = fixture.start(settings -> settings.maxEvents(3));
        server.trigger("chatty", "{}");
        JsonNode done = server.awaitFinished("chatty", 1);
        String refused = "event: execution chatty/1 has recorded 3 events, the most it may";
        assertThat(server.get("/jobs/chatty/1/stdout").body().split("\n"))
                .containsExactly("exit=0", "exit=0", refused, "exit=1", refused, "exit=1");
        assertThat(done.path("events"))
                .extracting(e -> e.path("name").asText())
                .containsExactly("queued", "start", "one", "continue", "continue", "complete");
    }

    @Test
    void whatAJobPlantsInTheLibraryIsGoneAfterARestartAndTheLibraryIsReadOnly() throws Exception {
        repo.with("plant.yml", """
                        command: |
                          chmod u+w "$(dirname "$(command -v event)")"
                          printf '#!/bin/sh\\necho HIJACKED\\n' > "$(dirname "$(command -v event)")/date"
                          chmod +x "$(dirname "$(command -v event)")/date"
                        """).with("clock.yml", "command: date +%Y\n").commit("plant");
        server.post("/config/sync", "");
        java.nio.file.Path lib = fixture.tmp().resolve("data/lib");
        assertThat(java.nio.file.Files.getPosixFilePermissions(lib))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
        server.trigger("plant", "{}");
        server.awaitFinished("plant", 1);
        assertThat(lib.resolve("date")).exists();
        fixture.stop();
        server = fixture.start(this::withTmpdir);
        assertThat(lib.resolve("date")).doesNotExist();
        assertThat(lib.resolve("event")).exists();
        server.trigger("clock", "{}");
        server.awaitFinished("clock", 1);
        assertThat(server.get("/jobs/clock/1/stdout").body())
                .doesNotContain("HIJACKED")
                .matches("\\d{4}\\n");
    }
}
