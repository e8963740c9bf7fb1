package overseer.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import overseer.store.StoreLocation;
import overseer.store.Stores;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code overseer backup --data DIR FILE}: a consistent copy of the embedded store, made while
 * the server keeps running (see {@link Stores#backup}). Execution output files are not in it:
 * copy {@code executions/} too. A PostgreSQL store is the database's to back up: this says how.
 */
@Command(
        name = "backup",
        description = {
            "Write a consistent copy of the server's database to FILE, also while the server runs.",
            "Restore: stop the server, put FILE at <data>/overseer.db, remove overseer.db-wal and",
            "overseer.db-shm, start it. With --store postgresql://... use pg_dump instead."
        })
public final class BackupCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--data",
            defaultValue = "${env:OVERSEER_DATA:-./overseer-data}",
            description = "the server's data directory (env OVERSEER_DATA)")
    Path data;

    @Option(
            names = "--store",
            defaultValue = "${env:OVERSEER_STORE:-sqlite}",
            description = "the server's --store (env OVERSEER_STORE)")
    String store;

    @Parameters(index = "0", paramLabel = "FILE", description = "where the copy goes; must not exist")
    Path file;

    @Override
    public Integer call() {
        StoreLocation location;
        try {
            location = StoreLocation.parse(store);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("overseer backup: " + e.getMessage());
            return 2;
        }
        if (location instanceof StoreLocation.Postgres pg) {
            spec.commandLine()
                    .getErr()
                    .println("overseer backup: the store is " + pg.describe() + "; back it up with PostgreSQL's own"
                            + " tools, e.g. pg_dump -h " + pg.host() + " -p " + pg.port() + " -Fc -f "
                            + file + " " + pg.database() + " (and copy <data>/executions/ for the output)");
            return 2;
        }
        Path db = Stores.sqliteFile(data.toAbsolutePath());
        Path target = file.toAbsolutePath();
        if (!Files.isRegularFile(db)) {
            spec.commandLine().getErr().println("overseer backup: no database at " + db);
            return 2;
        }
        if (Files.exists(target)) {
            spec.commandLine().getErr().println("overseer backup: " + target + " exists; name a new file");
            return 2;
        }
        try {
            Stores.backup(db, target);
            spec.commandLine()
                    .getOut()
                    .println("backed up " + db + " to " + target + " (" + Files.size(target) + " bytes)");
            spec.commandLine().getOut().flush();
            return 0;
        } catch (java.sql.SQLException | java.io.IOException e) {
            spec.commandLine().getErr().println("overseer backup: " + e.getMessage());
            return 1;
        }
    }
}
