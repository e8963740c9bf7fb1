package overseer.config;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.JGitKeyCache;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * Revisions of a Git repository, fetched with JGit into a bare repository in the data directory.
 * Only the tracked branch is fetched, into a private ref, so the local copy is never a working
 * tree that someone could edit.
 */
final class GitRevisions implements Revisions {
    private static final String TIP = "refs/overseer/tip";

    private final String url;
    private final Optional<String> branch;
    private final Optional<String> subdir;
    private final GitAccess access;
    private final Git git;
    private final Optional<SshdSessionFactory> ssh;

    /** How to authenticate: an HTTPS token, or an SSH key checked against a known_hosts file. */
    record GitAccess(Optional<String> token, Optional<Path> sshKey, Optional<Path> knownHosts) {}

    GitRevisions(String url, Optional<String> branch, Optional<String> subdir, GitAccess access, Path gitDir)
            throws SyncException {
        this.url = url;
        this.branch = branch;
        this.subdir = subdir;
        this.access = access;
        try {
            if (!Files.isRegularFile(gitDir.resolve("HEAD"))) {
                Files.createDirectories(gitDir);
                Git.init().setBare(true).setDirectory(gitDir.toFile()).call().close();
            }
            this.git = Git.open(gitDir.toFile());
        } catch (IOException | GitAPIException e) {
            throw new SyncException("cannot open local Git copy " + gitDir + ": " + e.getMessage());
        }
        this.ssh = access.sshKey().map(key -> sshFactory(key, access.knownHosts(), gitDir));
    }

    @Override
    public String latest() throws SyncException {
        String source = branch.map(b -> "refs/heads/" + b).orElse(Constants.HEAD);
        try {
            var fetch = git.fetch()
                    .setRemote(url)
                    .setRefSpecs(new RefSpec("+" + source + ":" + TIP))
                    .setTimeout(60)
                    .setTransportConfigCallback(transport -> {
                        if (transport instanceof SshTransport sshTransport && ssh.isPresent()) {
                            sshTransport.setSshSessionFactory(ssh.get());
                        }
                    });
            if (access.token().isPresent()) {
                fetch.setCredentialsProvider(new UsernamePasswordCredentialsProvider("x-access-token", access.token().get()));
            }
            fetch.call();
            Ref tip = git.getRepository().exactRef(TIP);
            if (tip == null || tip.getObjectId() == null) {
                throw new SyncException("branch " + branch.orElse("HEAD") + " not found in " + url);
            }
            return tip.getObjectId().name();
        } catch (GitAPIException | IOException | org.eclipse.jgit.api.errors.JGitInternalException e) {
            String message = e.getMessage();
            if (e.getCause() != null && e.getCause().getMessage() != null && !message.contains(e.getCause().getMessage())) {
                message += ": " + e.getCause().getMessage();
            }
            throw new SyncException("fetch of " + url + " failed: " + message);
        }
    }

    /** The last fetched revision, without contacting the remote. */
    Optional<String> fetched() {
        try {
            Ref tip = git.getRepository().exactRef(TIP);
            return Optional.ofNullable(tip).map(Ref::getObjectId).map(ObjectId::name);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public String materialize(String id, Path target) throws SyncException {
        Repository repo = git.getRepository();
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit commit = walk.parseCommit(ObjectId.fromString(id));
            RevTree tree = commit.getTree();
            ObjectId root = tree;
            if (subdir.isPresent()) {
                try (TreeWalk sub = TreeWalk.forPath(repo, subdir.get(), tree)) {
                    if (sub == null || sub.getFileMode(0) != FileMode.TREE) {
                        throw new SyncException("commit " + id + " has no directory '" + subdir.get() + "'");
                    }
                    root = sub.getObjectId(0);
                }
            }
            try (TreeWalk files = new TreeWalk(repo)) {
                files.addTree(root);
                files.setRecursive(true);
                while (files.next()) {
                    write(repo, files, target);
                }
            }
            return id;
        } catch (MissingObjectException e) {
            throw new SyncException("commit " + id + " is not in the local copy");
        } catch (IOException e) {
            throw new SyncException("cannot check out " + id + ": " + e.getMessage());
        }
    }

    private static void write(Repository repo, TreeWalk files, Path target) throws IOException, SyncException {
        String path = files.getPathString();
        Path file = target.resolve(path).normalize();
        if (!file.startsWith(target) || List.of(path.split("/")).contains("..")) {
            throw new SyncException("path escapes the checkout: " + path);
        }
        FileMode mode = files.getFileMode(0);
        Files.createDirectories(file.getParent());
        if (mode == FileMode.SYMLINK) {
            byte[] link = repo.open(files.getObjectId(0)).getBytes(4096);
            Files.createSymbolicLink(file, Path.of(new String(link, java.nio.charset.StandardCharsets.UTF_8)));
        } else if (mode == FileMode.REGULAR_FILE || mode == FileMode.EXECUTABLE_FILE) {
            try (OutputStream out = Files.newOutputStream(file)) {
                repo.open(files.getObjectId(0)).copyTo(out);
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(
                    mode == FileMode.EXECUTABLE_FILE ? "r-xr-xr-x" : "r--r--r--"));
        }
        // Submodules (gitlinks) have no content in this repository and are left out.
    }

    /**
     * SSH with the given key only, and strict host key checking against the known_hosts file:
     * an unknown or changed host key fails the fetch instead of being trusted on first use.
     */
    private static SshdSessionFactory sshFactory(Path key, Optional<Path> knownHosts, Path gitDir) {
        Path home = Path.of(System.getProperty("user.home"));
        Path hosts = knownHosts.orElse(home.resolve(".ssh/known_hosts"));
        Path config = gitDir.resolve("overseer-ssh-config");
        try {
            Files.writeString(config, "Host *\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n"
                    + "  UserKnownHostsFile " + hosts.toAbsolutePath() + "\n"
                    + "  IdentityFile " + key.toAbsolutePath() + "\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new SshdSessionFactoryBuilder()
                .setHomeDirectory(home.toFile())
                .setSshDirectory(gitDir.toFile())
                .setConfigFile(dir -> config.toFile())
                .setDefaultIdentities(dir -> List.of(key.toAbsolutePath()))
                .setDefaultKnownHostsFiles(dir -> List.of(hosts.toAbsolutePath()))
                .setPreferredAuthentications("publickey")
                .build(new JGitKeyCache());
    }

    @Override
    public void close() {
        git.close();
        ssh.ifPresent(SshdSessionFactory::close);
    }
}
