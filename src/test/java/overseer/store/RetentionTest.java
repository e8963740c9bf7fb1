package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.MutableClock;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Retention removes exactly what it should, rows and files, while other executions run. */
class RetentionTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void oldAndSurplusExecutionsGoButNotTheLatestNotRunningOnesAndNotYoungOnes() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-10-01T10:00:00Z"));
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: echo a\n")
                .with("busy.yml", "command: sleep 30\n")
                .with("c.yml", "command: echo c\n")
                .commit("jobs");
        TestServer server = fixture.start(settings -> settings.clock(clock).retention(Duration.ofDays(30), 3));
        for (int i = 1; i <= 5; i++) {
            server.trigger("a", "{}");
            server.awaitFinished("a", i);
        }
        server.trigger("busy", "{}");
        server.await("/jobs/busy/1", e -> e.path("status").asText().equals("start"));
        clock.advance(Duration.ofDays(31));
        server.trigger("a", "{}");
        server.awaitFinished("a", 6);
        for (int i = 1; i <= 6; i++) {
            server.trigger("c", "{}");
            server.awaitFinished("c", i);
        }
        Retention retention = server.overseer().retention();
        assertThat(retention.prune()).isEqualTo(5);
        assertThat(numbers(server, "a")).containsExactly(6L);
        assertThat(numbers(server, "busy")).containsExactly(1L);
        assertThat(numbers(server, "c")).containsExactly(6L, 5L, 4L, 3L, 2L, 1L);
        Path out = fixture.tmp().resolve("data/executions");
        assertThat(out.resolve("a/1")).doesNotExist();
        assertThat(out.resolve("a/6/stdout")).exists();
        assertThat(server.get("/jobs/a/1").statusCode()).isEqualTo(404);
        // Two days on, the surplus of c is old enough to go; the newest three stay.
        clock.advance(Duration.ofDays(2));
        assertThat(retention.prune()).isEqualTo(3);
        assertThat(numbers(server, "c")).containsExactly(6L, 5L, 4L);
        assertThat(numbers(server, "a")).containsExactly(6L);
        assertThat(numbers(server, "busy")).containsExactly(1L);
        assertThat(retention.prune()).isZero();
        assertThat(Files.exists(out.resolve("c/4/stdout"))).isTrue();
        server.put("/jobs/busy/1", "{\"event\": \"kill\"}");
    }

    private static List<Long> numbers(TestServer server, String job) throws Exception {
        List<Long> numbers = new ArrayList<>();
        server.json("/jobs/" + job + "/executions?limit=100")
                .forEach(e -> numbers.add(e.path("execution").asLong()));
        return numbers;
    }
}
