package overseer.execution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --job-user}: the account jobs run as when the server runs as root. {@code posix_spawn}
 * cannot change user, so each job is started through {@code setpriv} (util-linux), which sets the
 * user and group, drops every supplementary group and then executes the job.
 */
public record JobUser(String name, int uid, int gid, String home, Path setpriv) {
    private static final Path PASSWD = Path.of("/etc/passwd");
    private static final List<Path> SETPRIV = List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));

    /** Looks {@code name} up in /etc/passwd (accounts from NSS services such as LDAP are not seen). */
    public static JobUser lookup(String name) throws IOException {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        if (!root) {
            throw new IOException("--job-user needs the server to run as root (it changes the user of each job)");
        }
        Path setpriv = SETPRIV.stream()
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IOException("--job-user needs setpriv (Debian: apt-get install util-linux)"));
        for (String line : Files.readAllLines(PASSWD)) {
            String[] f = line.split(":", -1);
            if (f.length >= 7 && f[0].equals(name)) {
                int uid = Integer.parseInt(f[2]);
                if (uid == 0) {
                    throw new IOException("--job-user " + name + " is root; name an unprivileged account");
                }
                return new JobUser(name, uid, Integer.parseInt(f[3]), f[5], setpriv);
            }
        }
        throw new IOException("--job-user: no account named '" + name + "' in " + PASSWD);
    }

    /** The command that runs {@code argv} as this user, with no supplementary groups. */
    List<String> wrap(List<String> argv) {
        List<String> wrapped = new java.util.ArrayList<>(
                List.of(setpriv.toString(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        wrapped.addAll(argv);
        return wrapped;
    }
}
