package overseer.config;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
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
        GitWithoutProcesses.install();
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
                    // A first clone of a large remote takes a while: show it on a terminal.
                    .setProgressMonitor(Progress.gitMonitor())
                    .setTransportConfigCallback(transport -> {
                        if (transport instanceof SshTransport sshTransport && ssh.isPresent()) {
                            sshTransport.setSshSessionFactory(ssh.get());
                        }
                    });
            if (access.token().isPresent()) {
                fetch.setCredentialsProvider(new UsernamePasswordCredentialsProvider(
                        "x-access-token", access.token().get()));
            }
            fetch.call();
            Ref tip = git.getRepository().exactRef(TIP);
            if (tip == null || tip.getObjectId() == null) {
                throw new SyncException("branch " + branch.orElse("HEAD") + " not found in " + url);
            }
            return tip.getObjectId().name();
        } catch (GitAPIException | IOException | org.eclipse.jgit.api.errors.JGitInternalException e) {
            String message = e.getMessage();
            if (e.getCause() != null
                    && e.getCause().getMessage() != null
                    && !message.contains(e.getCause().getMessage())) {
                message += ": " + e.getCause().getMessage();
            }
            throw new SyncException("fetch of " + url + " failed: " + message);
        }
    }

    /** Revision {@code id} read from the object database, for validation without a checkout. */
    ConfigTree tree(String id) throws SyncException {
        Repository repo = git.getRepository();
        Map<String, ConfigTree.Entry> entries = new TreeMap<>();
        Map<String, ObjectId> ids = new HashMap<>();
        Listing listing = list(id);
        try (ObjectReader reader = repo.newObjectReader()) {
            for (Blob blob : listing.blobs()) {
                ConfigTree.Kind kind = blob.mode() == FileMode.SYMLINK
                        ? ConfigTree.Kind.SYMLINK
                        : blob.mode() == FileMode.EXECUTABLE_FILE ? ConfigTree.Kind.EXECUTABLE : ConfigTree.Kind.FILE;
                if (blob.mode() == FileMode.GITLINK) {
                    continue;
                }
                entries.put(
                        blob.path(),
                        new ConfigTree.Entry(blob.path(), kind, reader.getObjectSize(blob.id(), Constants.OBJ_BLOB)));
                ids.put(blob.path(), blob.id());
            }
        } catch (IOException e) {
            throw new SyncException("cannot read " + id + ": " + e.getMessage());
        }
        return new ConfigTree() {
            @Override
            public Map<String, Entry> entries() {
                return entries;
            }

            @Override
            public byte[] read(Entry entry) throws IOException {
                // Repository.open takes a fresh reader per call, so parallel validation is safe.
                return repo.open(ids.get(entry.path()), Constants.OBJ_BLOB).getCachedBytes(Integer.MAX_VALUE);
            }

            @Override
            public List<Refused> refused() {
                return listing.refused();
            }
        };
    }

    /** Whether the local copy holds commit {@code id} (it was fetched). */
    public boolean has(String id) {
        try {
            return git.getRepository().getObjectDatabase().has(org.eclipse.jgit.lib.ObjectId.fromString(id));
        } catch (IllegalArgumentException | IOException notThere) {
            return false;
        }
    }

    @Override
    public String materialize(String id, Path target) throws SyncException {
        try {
            write(git.getRepository(), list(id).blobs(), target);
            return id;
        } catch (IOException e) {
            throw new SyncException("cannot check out " + id + ": " + e.getMessage());
        }
    }

    /**
     * Every file of the configuration root of commit {@code id}, and what no checkout could write.
     * The walk goes one tree at a time, so that two entries of one name (which a crafted tree can
     * hold, and which would collide on disk) are seen rather than merged.
     */
    private Listing list(String id) throws SyncException {
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
            List<Blob> blobs = new ArrayList<>();
            List<ConfigTree.Refused> refused = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            try (TreeWalk files = new TreeWalk(repo)) {
                files.addTree(root);
                files.setRecursive(false);
                while (files.next()) {
                    String path = files.getPathString();
                    FileMode mode = files.getFileMode(0);
                    // Raw bytes, so that names which decode alike still count as two.
                    if (!seen.add(new String(files.getRawPath(), StandardCharsets.ISO_8859_1))) {
                        refused.add(new ConfigTree.Refused(
                                path, "the tree holds two entries named '" + files.getNameString() + "'"));
                    }
                    if (files.isSubtree()) {
                        files.enterSubtree();
                    } else if (mode == FileMode.REGULAR_FILE
                            || mode == FileMode.EXECUTABLE_FILE
                            || mode == FileMode.SYMLINK
                            || mode == FileMode.GITLINK) {
                        blobs.add(new Blob(path, mode, files.getObjectId(0)));
                    } else {
                        refused.add(new ConfigTree.Refused(
                                path,
                                "has file mode " + Integer.toOctalString(mode.getBits())
                                        + ", which no checkout writes"));
                    }
                }
            }
            return new Listing(blobs, refused);
        } catch (MissingObjectException e) {
            throw new SyncException("commit " + id + " is not in the local copy");
        } catch (IOException e) {
            throw new SyncException("cannot read " + id + ": " + e.getMessage());
        }
    }

    private record Listing(List<Blob> blobs, List<ConfigTree.Refused> refused) {}

    private record Blob(String path, FileMode mode, ObjectId id) {}

    private static final FileAttribute<?> READ_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--"));
    private static final FileAttribute<?> EXECUTABLE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-xr-xr-x"));

    /**
     * Writes the files on as many threads as there are cores: a checkout is thousands of small
     * files, and creating them is system-call bound. Each thread has its own object reader.
     */
    private static void write(Repository repo, List<Blob> blobs, Path target) throws IOException, SyncException {
        Set<Path> directories = new HashSet<>();
        for (Blob blob : blobs) {
            Path file = target.resolve(blob.path()).normalize();
            if (!file.startsWith(target) || List.of(blob.path().split("/")).contains("..")) {
                throw new SyncException("path escapes the checkout: " + blob.path());
            }
            if (directories.add(file.getParent())) {
                Files.createDirectories(file.getParent());
            }
        }
        int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), blobs.size() / 256));
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Void>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Blob> part = blobs.subList(blobs.size() * t / threads, blobs.size() * (t + 1) / threads);
                parts.add(pool.submit(() -> {
                    try (ObjectReader reader = repo.newObjectReader()) {
                        for (Blob blob : part) {
                            writeOne(reader, blob, target.resolve(blob.path()));
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> part : parts) {
                part.get();
            }
        } catch (ExecutionException e) {
            throw new SyncException("cannot write checkout: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SyncException("interrupted while writing checkout");
        }
    }

    private static void writeOne(ObjectReader reader, Blob blob, Path file) throws IOException {
        if (blob.mode() == FileMode.SYMLINK) {
            byte[] link = reader.open(blob.id()).getBytes(4096);
            Files.createSymbolicLink(file, Path.of(new String(link, StandardCharsets.UTF_8)));
        } else if (blob.mode() == FileMode.REGULAR_FILE || blob.mode() == FileMode.EXECUTABLE_FILE) {
            FileAttribute<?> mode = blob.mode() == FileMode.EXECUTABLE_FILE ? EXECUTABLE : READ_ONLY;
            try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(
                    file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), mode))) {
                reader.open(blob.id()).copyTo(out);
            }
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
            Files.writeString(
                    config,
                    "Host *\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n"
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
