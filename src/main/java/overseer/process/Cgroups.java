package overseer.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Per-execution cgroups (v2), where the machine offers a hierarchy this process may write: each
 * execution gets {@code overseer/<job>-<n>-<run>} under the server's own cgroup, its process
 * moves in before it runs the job, and every descendant, whatever its session, process group or
 * environment, stays in it and is killed with it through {@code cgroup.kill}.
 */
public final class Cgroups {
    private final Path base;

    private Cgroups(Path base) {
        this.base = base;
    }

    /** Where new cgroups are made: {@code overseer} under the server's own cgroup. */
    public Path base() {
        return base;
    }

    /**
     * The cgroup v2 hierarchy this process is in, with an {@code overseer} cgroup made under its
     * own; a reason when there is none to use (no cgroup2 mount, not ours to write).
     */
    public static Found find() {
        Optional<Path> mount;
        String own;
        try {
            mount = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(line -> line.split(" "))
                    .filter(f -> f.length > 8 && fsType(f).equals("cgroup2"))
                    .map(f -> Path.of(f[4]))
                    .findFirst();
            own = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                    .filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3))
                    .findFirst()
                    .orElse("");
        } catch (IOException e) {
            return new Found.None("cannot read /proc: " + e.getMessage());
        }
        if (mount.isEmpty() || own.isEmpty()) {
            return new Found.None("no cgroup v2 hierarchy is mounted");
        }
        Path mine = mount.get().resolve(own.substring(1)).normalize();
        if (!mine.startsWith(mount.get()) || !Files.isRegularFile(mine.resolve("cgroup.procs"))) {
            return new Found.None("this process's cgroup " + own + " is not under " + mount.get());
        }
        Path base = mine.resolve("overseer");
        try {
            Files.createDirectories(base);
        } catch (IOException e) {
            return new Found.None("cannot create " + base + ": " + e.getMessage());
        }
        if (!Files.isWritable(base.resolve("cgroup.procs"))) {
            return new Found.None(base + "/cgroup.procs is not writable");
        }
        return new Found.Some(new Cgroups(base));
    }

    /** The file system type of a mountinfo line: the field after the {@code -} separator. */
    private static String fsType(String[] fields) {
        for (int i = 6; i + 1 < fields.length; i++) {
            if (fields[i].equals("-")) {
                return fields[i + 1];
            }
        }
        return "";
    }

    /** What {@link #find} found. */
    public sealed interface Found {
        record Some(Cgroups cgroups) implements Found {}

        record None(String reason) implements Found {}
    }

    /** Makes the cgroup {@code name} (a job name, its number and run); a leftover of that name is emptied first. */
    public Cgroup create(String name) throws IOException {
        Cgroup cgroup = new Cgroup(base.resolve(name));
        if (Files.isDirectory(cgroup.dir())) {
            cgroup.killAndRemove();
        }
        Files.createDirectory(cgroup.dir());
        return cgroup;
    }

    /** One execution's cgroup. */
    public record Cgroup(Path dir) {
        /** The file a process writes its pid to, to move in. */
        public Path procs() {
            return dir.resolve("cgroup.procs");
        }

        /**
         * Whether a process ever ran in it, so the job's process moved in before it started
         * anything: then everything the run started is in it (only root can move a process
         * out), and no scan of {@code /proc} for the run's marker is needed. {@code usage_usec}
         * counts CPU time used in the cgroup; a job too short to be counted reads as not
         * entered, which only costs the scan.
         */
        public boolean entered() {
            try {
                for (String line : Files.readAllLines(dir.resolve("cpu.stat"))) {
                    if (line.startsWith("usage_usec ")) {
                        return Long.parseLong(
                                        line.substring("usage_usec ".length()).trim())
                                > 0;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // No CPU accounting here: not proven.
            }
            return false;
        }

        /**
         * Removes the cgroup if it has no member (the kernel refuses to remove a populated one
         * with {@code EBUSY}); false when it is still there.
         */
        public boolean removeIfEmpty() {
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /**
         * Removes the cgroup and the cgroups a job made inside it, innermost first; false when
         * one is still populated (its members are exiting) and so still there.
         */
        private boolean removeTree() {
            List<Path> dirs;
            try (var walk = Files.walk(dir)) {
                dirs = walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                        .sorted(Comparator.reverseOrder())
                        .toList();
            } catch (IOException | UncheckedIOException e) {
                return !Files.exists(dir);
            }
            for (Path d : dirs) {
                try {
                    Files.deleteIfExists(d);
                } catch (IOException e) {
                    return false;
                }
            }
            return true;
        }

        /** The live members' pids. */
        List<Long> members() {
            List<Long> pids = new ArrayList<>();
            try {
                for (String line : Files.readAllLines(procs())) {
                    if (!line.isBlank()) {
                        pids.add(Long.parseLong(line.trim()));
                    }
                }
            } catch (IOException e) {
                // Removed: no members.
            }
            return pids;
        }

        /**
         * SIGKILLs every member and removes the cgroup once it is empty. {@code cgroup.kill}
         * (Linux 5.14) kills atomically, forks included; before it, members are killed one by
         * one until none is left. False when members are still there after five seconds.
         */
        public boolean killAndRemove() {
            Path kill = dir.resolve("cgroup.kill");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (true) {
                List<Long> left = members();
                if (left.isEmpty() && removeTree()) {
                    return true;
                }
                if (Files.exists(kill)) {
                    // Kills the whole subtree: also what moved into a cgroup the job made inside
                    // its own, which its cgroup.procs does not list.
                    try {
                        Files.writeString(kill, "1");
                    } catch (IOException e) {
                        // Removed meanwhile.
                    }
                } else {
                    for (long pid : left) {
                        try {
                            Libc.kill(pid, Libc.SIGKILL);
                        } catch (Libc.Failure e) {
                            // Ended meanwhile.
                        }
                    }
                }
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
    }
}
