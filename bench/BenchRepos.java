// Shared by the benchmarks (the JDK's source launcher compiles it along with them).

import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

final class BenchRepos {
    private BenchRepos() {}

    /** Makes {@code dir} a Git repository with everything in it committed on main, packed. */
    static void commitAll(Path dir) throws Exception {
        try (Git git =
                Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
            git.add().addFilepattern(".").call();
            PersonIdent who = new PersonIdent("bench", "bench@example.com");
            git.commit()
                    .setMessage("jobs")
                    .setAuthor(who)
                    .setCommitter(who)
                    .setSign(false)
                    .call();
            // Git hosts serve packed repositories; fetching loose objects would measure
            // compressing them instead.
            git.gc().call();
        }
    }
}
