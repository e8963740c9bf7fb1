package overseer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code overseer backup --data DIR FILE}: a consistent copy of the store, made with SQLite's
 * {@code VACUUM INTO} while the server keeps running (a reader in WAL mode sees one committed
 * state and blocks no writer). Execution output files are not in it: copy {@code executions/} too.
 */
@Command(
        name = "backup",
        description = {
            "Write a consistent copy of the server's database to FILE, also while the server runs.",
            "Restore: stop the server, put FILE at <data>/overseer.db, remove overseer.db-wal and",
            "overseer.db-shm, start it."
        })
public final class BackupCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--data",
            defaultValue = "${env:OVERSEER_DATA:-./overseer-data}",
            description = "the server's data directory (env OVERSEER_DATA)")
    Path data;

    @Parameters(index = "0", paramLabel = "FILE", description = "where the copy goes; must not exist")
    Path file;

    @Override
    public Integer call() {
        Path db = data.toAbsolutePath().resolve(overseer.store.SqliteStore.FILE);
        Path target = file.toAbsolutePath();
        if (!Files.isRegularFile(db)) {
            spec.commandLine().getErr().println("overseer backup: no database at " + db);
            return 2;
        }
        if (Files.exists(target)) {
            spec.commandLine().getErr().println("overseer backup: " + target + " exists; name a new file");
            return 2;
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                PreparedStatement s = c.prepareStatement("VACUUM INTO ?")) {
            try (var pragma = c.createStatement()) {
                pragma.execute("PRAGMA busy_timeout = 10000");
            }
            s.setString(1, target.toString());
            s.execute();
            spec.commandLine()
                    .getOut()
                    .println("backed up " + db + " to " + target + " (" + Files.size(target) + " bytes)");
            spec.commandLine().getOut().flush();
            return 0;
        } catch (SQLException | java.io.IOException e) {
            spec.commandLine().getErr().println("overseer backup: " + e.getMessage());
            return 1;
        }
    }
}
