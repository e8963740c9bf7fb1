package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.MutableClock;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code /ready} also answers for the data directory's disk and for how long ago the configuration synced. */
class ReadinessTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void aNearlyFullDiskIsNotReady() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: x\n").commit("jobs");
        TestServer server = fixture.start(settings -> settings.readiness(Long.MAX_VALUE, Duration.ZERO));
        HttpResponse<String> ready = server.get("/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("free, less than --min-free-disk");
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void aConfigurationThatHasNotSyncedForTooLongIsNotReadyUntilASyncSucceeds() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: x\n").commit("jobs");
        TestServer server = fixture.start(
                settings -> settings.clock(clock).poll(Duration.ofHours(1)).readiness(0, Duration.ofMinutes(10)));
        assertThat(server.get("/ready").statusCode()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(11));
        HttpResponse<String> stale = server.get("/ready");
        assertThat(stale.statusCode()).isEqualTo(503);
        assertThat(stale.body()).contains("has not synced for 660 s (more than --max-sync-age 600 s)");
        server.post("/config/sync", "");
        assertThat(server.get("/ready").statusCode()).isEqualTo(200);
    }
}
