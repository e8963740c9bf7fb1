package overseer.config;

import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.storage.file.FileBasedConfig;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.SystemReader;

/**
 * Keeps JGit from starting {@code git} processes. To find the system-wide config, JGit runs
 * {@code git --version} and {@code git config --system --list}; the server reaps every child with
 * {@code waitpid(-1)}, so it must be the only one that spawns. The system config is not read at
 * all, as with {@code GIT_CONFIG_NOSYSTEM=1}: the repository's and the user's config still are.
 */
final class GitWithoutProcesses extends SystemReader.Delegate {
    private GitWithoutProcesses(SystemReader delegate) {
        super(delegate);
    }

    /** Installs it as JGit's system reader (a JVM-wide setting of JGit's), once. */
    static synchronized void install() {
        if (!(SystemReader.getInstance() instanceof GitWithoutProcesses)) {
            SystemReader.setInstance(new GitWithoutProcesses(SystemReader.getInstance()));
        }
    }

    @Override
    public FileBasedConfig openSystemConfig(Config parent, FS fs) {
        return new FileBasedConfig(parent, null, fs) {
            @Override
            public void load() {
                // No system config: reading it is what would spawn git.
            }

            @Override
            public boolean isOutdated() {
                return false;
            }
        };
    }
}
