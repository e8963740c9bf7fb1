package overseer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.UploadPack;

/**
 * A real SSH server (Apache MINA sshd) on loopback that serves one Git repository through JGit's
 * upload-pack, accepting one client key. For testing SSH sync end to end.
 */
public final class SshGitServer implements AutoCloseable {
    private final SshServer server;
    private final KeyPair hostKey;
    private final Repository repository;

    private SshGitServer(SshServer server, KeyPair hostKey, Repository repository) {
        this.server = server;
        this.hostKey = hostKey;
        this.repository = repository;
    }

    /** Serves {@code repoDir} to whoever holds the private key of {@code clientKey}. */
    public static SshGitServer start(Path repoDir, KeyPair clientKey) throws IOException, GeneralSecurityException {
        KeyPair hostKey = newKey();
        Repository repository =
                new FileRepositoryBuilder().setWorkTree(repoDir.toFile()).build();
        SshServer server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        server.setPublickeyAuthenticator((user, key, session) -> KeyUtils.compareKeys(key, clientKey.getPublic()));
        server.setCommandFactory((channel, command) -> new UploadPackCommand(repository));
        server.start();
        return new SshGitServer(server, hostKey, repository);
    }

    public static KeyPair newKey() throws GeneralSecurityException {
        return KeyUtils.generateKeyPair(KeyPairProvider.ECDSA_SHA2_NISTP256, 256);
    }

    /** Writes {@code key} as an OpenSSH private key file, as ssh-keygen would. */
    public static Path writePrivateKey(KeyPair key, Path file) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(file)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "overseer-test", null, out);
        }
        return file;
    }

    public String url() {
        return "ssh://git@127.0.0.1:" + server.getPort() + "/repo.git";
    }

    /** The known_hosts line that trusts this server's host key. */
    public String knownHostsLine() {
        return "[127.0.0.1]:" + server.getPort() + " " + PublicKeyEntry.toString(hostKey.getPublic());
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
        repository.close();
    }

    private static final class UploadPackCommand implements Command {
        private final Repository repository;
        private InputStream in;
        private OutputStream out;
        private OutputStream err;
        private ExitCallback exit;

        UploadPackCommand(Repository repository) {
            this.repository = repository;
        }

        @Override
        public void setInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {
            this.err = err;
        }

        @Override
        public void setExitCallback(ExitCallback exit) {
            this.exit = exit;
        }

        @Override
        public void start(ChannelSession channel, Environment env) {
            Thread.ofVirtual().start(() -> {
                try {
                    new UploadPack(repository).upload(in, out, err);
                    out.flush();
                    exit.onExit(0);
                } catch (IOException e) {
                    exit.onExit(1, e.getMessage());
                }
            });
        }

        @Override
        public void destroy(ChannelSession channel) {}
    }
}
