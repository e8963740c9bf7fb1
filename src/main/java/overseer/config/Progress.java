package overseer.config;

import java.io.PrintWriter;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.ProgressMonitor;
import org.eclipse.jgit.lib.TextProgressMonitor;

/** Progress for people: shown on stderr when it is a terminal, nothing otherwise (logs, pipes, CI). */
public final class Progress {
    private Progress() {}

    public static boolean onTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** JGit's progress lines for a fetch, on a terminal only. */
    static ProgressMonitor gitMonitor() {
        return onTerminal() ? new TextProgressMonitor(new PrintWriter(System.err, true)) : NullProgressMonitor.INSTANCE;
    }
}
