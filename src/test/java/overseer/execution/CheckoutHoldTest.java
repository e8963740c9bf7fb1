package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** An execution runs against the checkout of its own commit, whatever is applied meanwhile. */
class CheckoutHoldTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void aSyncNeverChangesOrRemovesTheFilesOfARunningExecution() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("show.yml", "command: cat data.txt; sleep 1; cat data.txt; pwd\n")
                .with("data.txt", "first\n");
        String first = repo.commit("first");
        TestServer server = fixture.server();
        server.trigger("show", "{}");
        server.await("/jobs/show/1", e -> e.get("status").asText().equals("start"));
        repo.with("data.txt", "second\n").commit("second");
        assertThat(server.post("/config/sync", "").statusCode()).isEqualTo(200);
        assertThat(server.json("/config").get("commit").asText()).isNotEqualTo(first);

        JsonNode done = server.awaitFinished("show", 1);
        assertThat(done.get("status").asText()).isEqualTo("complete");
        assertThat(done.get("commit").asText()).isEqualTo(first);
        String out = server.get("/jobs/show/1/stdout").body();
        assertThat(out).startsWith("first\nfirst\n").endsWith("/checkouts/" + first + "\n");

        // Released once it ended: the next sync prunes it.
        repo.with("data.txt", "third\n").commit("third");
        server.post("/config/sync", "");
        Path old = fixture.tmp().resolve("data/checkouts").resolve(first);
        for (int i = 0; i < 100 && Files.exists(old); i++) {
            Thread.sleep(50);
        }
        assertThat(old).doesNotExist();
    }
}
