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

    /**
     * Commits, on top of HEAD, HEAD's tree plus one crafted entry that Git's own commands refuse
     * to make: a directory named {@code dirName} holding {@code file} (a job file). Returns the SHA.
     */
    public String commitCraftedEntry(String dirName, String file, String content) throws IOException {
        var repo = git.getRepository();
        try (var inserter = repo.newObjectInserter();
                var walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
            var head = walk.parseCommit(repo.resolve("HEAD"));
            var blob = inserter.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, content.getBytes());
            var inner = new org.eclipse.jgit.lib.TreeFormatter();
            inner.append(file, org.eclipse.jgit.lib.FileMode.REGULAR_FILE, blob);
            var innerId = inserter.insert(inner);
            // Tree entries are sorted by name; the crafted directory goes where it sorts.
            var entries = new java.util.TreeMap<String, Object[]>();
            try (var tw = new org.eclipse.jgit.treewalk.TreeWalk(repo)) {
                tw.addTree(head.getTree());
                while (tw.next()) {
                    entries.put(
                            tw.getFileMode(0) == org.eclipse.jgit.lib.FileMode.TREE
                                    ? tw.getNameString() + "/"
                                    : tw.getNameString(),
                            new Object[] {tw.getNameString(), tw.getFileMode(0), tw.getObjectId(0)});
                }
            }
            entries.put(dirName + "/", new Object[] {dirName, org.eclipse.jgit.lib.FileMode.TREE, innerId});
            var root = new org.eclipse.jgit.lib.TreeFormatter();
            for (Object[] e : entries.values()) {
                root.append((String) e[0], (org.eclipse.jgit.lib.FileMode) e[1], (org.eclipse.jgit.lib.ObjectId) e[2]);
            }
            var rootId = inserter.insert(root);
            return crafted(repo, inserter, head, rootId);
        }
    }

    /**
     * One entry of a tree that Git's own commands would not make (a name too long for a disk, two
     * entries of one name, a file and a directory of one name), for {@link #commitCrafted}.
     */
    public record Crafted(
            byte[] name, org.eclipse.jgit.lib.FileMode mode, byte[] content, java.util.List<Crafted> children) {
        public static Crafted file(String name, String content) {
            return new Crafted(
                    name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    org.eclipse.jgit.lib.FileMode.REGULAR_FILE,
                    content.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    java.util.List.of());
        }

        public static Crafted link(String name, String target) {
            return new Crafted(
                    name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    org.eclipse.jgit.lib.FileMode.SYMLINK,
                    target.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    java.util.List.of());
        }

        public static Crafted dir(String name, Crafted... children) {
            return new Crafted(
                    name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    org.eclipse.jgit.lib.FileMode.TREE,
                    new byte[0],
                    java.util.List.of(children));
        }
    }

    /**
     * Commits, on top of HEAD, a root tree of exactly {@code entries}, written in the order given
     * (so duplicates and clashes stay as they are) with JGit's low-level inserter; returns the SHA.
     */
    public String commitCrafted(Crafted... entries) throws IOException {
        var repo = git.getRepository();
        try (var inserter = repo.newObjectInserter();
                var walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
            var head = walk.parseCommit(repo.resolve("HEAD"));
            var root = tree(inserter, java.util.List.of(entries));
            return crafted(repo, inserter, head, root);
        }
    }

    private static org.eclipse.jgit.lib.ObjectId tree(
            org.eclipse.jgit.lib.ObjectInserter inserter, java.util.List<Crafted> entries) throws IOException {
        var formatter = new org.eclipse.jgit.lib.TreeFormatter();
        for (Crafted e : entries) {
            var id = e.mode() == org.eclipse.jgit.lib.FileMode.TREE
                    ? tree(inserter, e.children())
                    : inserter.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, e.content());
            formatter.append(e.name(), e.mode(), id);
        }
        return inserter.insert(formatter);
    }

    @Override
    public void close() {
        git.close();
    }

    /** Commits {@code tree} on top of {@code head} as an attacker would, moving main to it. */
    private static String crafted(
            org.eclipse.jgit.lib.Repository repo,
            org.eclipse.jgit.lib.ObjectInserter inserter,
            org.eclipse.jgit.revwalk.RevCommit head,
            org.eclipse.jgit.lib.ObjectId tree)
            throws IOException {
        var commit = new org.eclipse.jgit.lib.CommitBuilder();
        commit.setTreeId(tree);
        commit.setParentId(head);
        PersonIdent who = new PersonIdent("Attacker", "evil@example.com");
        commit.setAuthor(who);
        commit.setCommitter(who);
        commit.setMessage("crafted");
        var id = inserter.insert(commit);
        inserter.flush();
        var update = repo.updateRef("refs/heads/main");
        update.setNewObjectId(id);
        update.setExpectedOldObjectId(head);
        update.update();
        return id.name();
    }
}
