package overseer.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's fence outside the JVM: a small {@code sh} process that SIGKILLs every process
 * carrying this server's marker ({@link #VARIABLE}) when the server stops feeding it, because a
 * SIGKILLed or SIGSTOPped JVM cannot kill its jobs itself. The server feeds it a line over a
 * named pipe after each lease renewal ({@link #beat}); the pipe's end (the JVM's descriptor closes
 * with it, whatever killed it) or no line for {@code limit} makes it act.
 */
public final class Watchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);

    /** The variable every job's environment carries, with this server's {@link #mark}. */
    public static final String VARIABLE = "OVERSEER_NODE_MARK";

    private final String mark;
    private final int fd;
    private final Launcher launcher;
    private final Launcher.Command command;
    /** Guarded by this: replaced when it is found gone. */
    private Launcher.Process process;

    private Watchdog(String mark, int fd, Launcher launcher, Launcher.Command command, Launcher.Process process) {
        this.mark = mark;
        this.fd = fd;
        this.launcher = launcher;
        this.command = command;
        this.process = process;
    }

    /**
     * Starts the watchdog for processes marked {@code mark}, acting when no beat came for {@code
     * limit}; its files are in {@code dir}.
     */
    public static Watchdog start(Launcher launcher, Path dir, String mark, Duration limit) throws IOException {
        Files.createDirectories(dir);
        Path script = dir.resolve("watchdog.sh");
        try (InputStream in = Watchdog.class.getResourceAsStream("watchdog.sh")) {
            if (in == null) {
                throw new IOException("the watchdog script is missing from the jar");
            }
            Files.write(script, in.readAllBytes());
        }
        // Named by the marker: a watchdog still ending for the server that ran here before reads
        // its own pipe, never this one's (it would take some of its beats).
        Path pipe = dir.resolve("watchdog-" + mark + ".pipe");
        Fifos.create(pipe);
        int fd;
        try {
            // Read and write, so that opening never waits for the reader; close-on-exec, so that
            // no job holds it open (the watchdog sees the end only when the JVM's copy closes).
            fd = Libc.open(pipe.toString(), O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        } catch (Libc.Failure e) {
            throw new IOException("cannot open the watchdog's pipe " + pipe + ": " + e.getMessage());
        }
        Launcher.Command command = new Launcher.Command(
                List.of(
                        "/bin/sh",
                        script.toString(),
                        mark,
                        Long.toString(Math.max(1, limit.toMillis() / 10)),
                        pipe.toString(),
                        dir.resolve("watchdog-" + mark + ".beat").toString(),
                        dir.resolve("watchdog.log").toString()),
                List.of("PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"),
                dir,
                Optional.empty(),
                true);
        Launcher.Process process;
        try {
            process = spawn(launcher, command);
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
        log.info(
                "cluster: watchdog {} kills this server's jobs if the server stops renewing for {} ms",
                process.pid(),
                limit.toMillis());
        return new Watchdog(mark, fd, launcher, command, process);
    }

    private static Launcher.Process spawn(Launcher launcher, Launcher.Command command) throws IOException {
        Launcher.Process process = launcher.start(command);
        // It writes to its log file only: its output pipe is not read.
        process.closeStreams();
        return process;
    }

    private static final int O_RDWR = 2;

    /** The watchdog process's id now. */
    synchronized long pid() {
        return process.pid();
    }

    /** The marker value this watchdog kills by. */
    public String mark() {
        return mark;
    }

    /**
     * The lease was renewed: the watchdog's limit starts again. A watchdog found gone (killed by
     * someone, or failed) is started again first, on the same pipe, and says so: without it a
     * frozen server's jobs would run on. False when it is closed, or could not be started again.
     */
    public synchronized boolean beat() {
        if (closed.get()) {
            return false;
        }
        if (process.exit().isDone()) {
            String how = process.exit().getNow(null) instanceof ExitStatus status ? status.describe() : "ended";
            try {
                long old = process.pid();
                process = spawn(launcher, command);
                log.error("cluster: the watchdog {} was gone ({}); started it again as {}", old, how, process.pid());
            } catch (IOException | RuntimeException e) {
                log.error("cluster: the watchdog is gone ({}) and cannot be started again: {}", how, e.getMessage());
                return false;
            }
        }
        try {
            Libc.write(fd, new byte[] {'\n'});
        } catch (Libc.Failure e) {
            // A full pipe (the watchdog is not reading): the beat is dropped, as if it came late.
            log.warn("cluster: a heartbeat to the watchdog was dropped: {}", e.getMessage());
        }
        return true;
    }

    /** Set by the first {@link #close}: a descriptor closed twice may close another's that reused its number. */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Ends the watchdog, which kills what carries the marker: called once this server's jobs have
     * ended. Only the first call does anything.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            // Under the lock: a beat never writes to the number once it is closed.
            Libc.close(fd);
        }
        try {
            process.exit().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("cluster: the watchdog did not end within 5 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
