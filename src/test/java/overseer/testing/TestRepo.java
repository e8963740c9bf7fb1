package overseer.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;

/** A real Git repository in a temporary directory, changed and committed like an operator would. */
public final class TestRepo implements AutoCloseable {
    private final Path dir;
    private final Git git;

    private TestRepo(Path dir, Git git) {
        this.dir = dir;
        this.git = git;
    }

    public static TestRepo create(Path dir) throws GitAPIException {
        return new TestRepo(
                dir,
                Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call());
    }

    public Path dir() {
        return dir;
    }

    public String url() {
        return dir.toUri().toString();
    }

    public TestRepo with(String path, String content) throws IOException {
        Path file = dir.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return this;
    }

    public TestRepo executable(String path, String content) throws IOException {
        with(path, content);
        Files.setPosixFilePermissions(dir.resolve(path), PosixFilePermissions.fromString("rwxr-xr-x"));
        return this;
    }

    public TestRepo symlink(String path, String target) throws IOException {
        Path link = dir.resolve(path);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, Path.of(target));
        return this;
    }

    public TestRepo without(String path) throws IOException {
        Files.delete(dir.resolve(path));
        return this;
    }

    /** Commits everything in the working tree; returns the commit SHA. */
    public String commit(String message) throws GitAPIException {
        git.add().addFilepattern(".").call();
        git.add().addFilepattern(".").setUpdate(true).call();
        PersonIdent who = new PersonIdent("Test Operator", "ops@example.com");
        return git.commit()
                .setMessage(message)
                .setAuthor(who)
                .setCommitter(who)
                .setSign(false)
                .call()
                .name();
    }

    @Override
    public void close() {
        git.close();
    }
}
