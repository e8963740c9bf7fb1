// Shared by the benchmarks (the JDK's source launcher compiles it along with them).

import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

final class BenchRepos {
    private BenchRepos() {}

    /** The server the benchmarks run in their own JVM: the repository at {@code repo}, 8 slots, a big queue. */
    static overseer.Overseer.Options options(
            Path repo, Path data, overseer.event.RetrySchedule retry, java.util.Map<String, String> env) {
        var settings = new overseer.config.ConfigSync.Settings(
                overseer.config.Source.parse(repo.toUri().toString()),
                java.util.Optional.empty(),
                java.util.Optional.empty(),
                java.util.Optional.empty(),
                java.util.Optional.empty(),
                java.util.Optional.empty());
        return new overseer.Overseer.Options(
                settings,
                data,
                new java.net.InetSocketAddress("127.0.0.1", 0),
                java.time.Duration.ofHours(1),
                java.util.Optional.empty(),
                java.util.Optional.empty(),
                8,
                1_000_000,
                java.time.Duration.ofSeconds(10),
                java.time.Duration.ofSeconds(5),
                java.util.Optional.empty(),
                retry,
                env,
                java.time.Clock.systemUTC(),
                overseer.api.HttpApi.Exposure.defaults(java.util.List.of()),
                1L << 30,
                java.util.Optional.empty(),
                0,
                java.time.Duration.ZERO,
                java.time.Duration.ofDays(30),
                1_000_000);
    }

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
