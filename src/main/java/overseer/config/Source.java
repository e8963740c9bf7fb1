package overseer.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** Where the configuration comes from, as given by {@code --repo}. */
public sealed interface Source {
    /** A Git repository reached over https, ssh or file://. */
    record GitRemote(String url) implements Source {}

    /** A Git repository on this machine; its committed state is what counts, not its working tree. */
    record LocalRepo(Path path) implements Source {}

    /** A plain directory, read as a snapshot identified by a hash of its content. */
    record PlainDirectory(Path path) implements Source {}

    Pattern SCP_LIKE = Pattern.compile("[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:.+");

    static Source parse(String repo) {
        if (repo.contains("://") || SCP_LIKE.matcher(repo).matches()) {
            return new GitRemote(repo);
        }
        Path path = Path.of(repo).toAbsolutePath().normalize();
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException("--repo: '" + repo + "' is neither a Git URL nor a directory");
        }
        boolean bare = Files.isRegularFile(path.resolve("HEAD")) && Files.isDirectory(path.resolve("objects"));
        if (Files.exists(path.resolve(".git")) || bare) {
            return new LocalRepo(path);
        }
        return new PlainDirectory(path);
    }

    /** Where it is, for GET /config and the log, without credentials. */
    default String describe() {
        return switch (this) {
            case GitRemote r -> Secrets.mask(r.url());
            case LocalRepo r -> r.path().toString();
            case PlainDirectory d -> d.path().toString();
        };
    }
}
