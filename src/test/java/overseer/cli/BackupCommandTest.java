package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.store.ExecutionQuery;
import overseer.store.SqliteStore;
import overseer.store.Store;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** {@code overseer backup} while the server runs, and the copy opened as a store. */
class BackupCommandTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void aBackupTakenWhileTheServerRunsHoldsItsExecutions() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("hello.yml", "command: echo hello\n").commit("jobs");
        TestServer server = fixture.server();
        for (int i = 0; i < 3; i++) {
            server.trigger("hello", "{}");
        }
        server.awaitFinished("hello", 3);
        StringWriter out = new StringWriter();
        var cli = OverseerCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        Path copy = fixture.tmp().resolve("backup.db");
        int exit = cli.execute("backup", "--data", fixture.data().toString(), copy.toString());
        assertThat(exit).isZero();
        assertThat(out.toString()).startsWith("backed up ");
        assertThat(cli.execute("backup", "--data", fixture.data().toString(), copy.toString()))
                .isEqualTo(2);
        server.trigger("hello", "{}");
        try (Store restored = SqliteStore.open(copy)) {
            assertThat(restored.executions("hello", new ExecutionQuery(OptionalLong.empty(), Optional.empty(), 10)))
                    .hasSize(3)
                    .allSatisfy(e -> assertThat(e.status()).isEqualTo("complete"));
        }
        assertThat(Files.size(copy)).isPositive();
    }
}
