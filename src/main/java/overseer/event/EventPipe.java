package overseer.event;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.process.Fifos;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;

/**
 * The server end of the {@code event} helper (lib-scripts/event). A job cannot open a socket from
 * plain sh, so it writes the path of a private request directory, one short line, into this
 * named pipe; lines under PIPE_BUF are written whole, so concurrent jobs never interleave. The
 * directory holds the request ({@code request}: job, execution, token, name; {@code cause}) and a
 * named pipe {@code ack} that the answer goes back on: {@code ok} once the event is stored, or the
 * reason it was not.
 *
 * <p>Everything in that directory is the job's, so it is touched only through descriptors: the
 * directory is opened without following a link, each file in it with {@code openat(O_NOFOLLOW |
 * O_NONBLOCK)}, and the descriptor, not the path, is checked ({@code fstat}: a regular file, the
 * reply a named pipe, all owned by the {@link #sender} uid) before it is read (at most a few KiB),
 * written or removed ({@code unlinkat}). No call on a job's file can block, so a request is
 * answered or refused at once; a refusal names the problem, never the bytes of a file.
 */
public final class EventPipe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventPipe.class);
    /** The prefix the helper gives its request directories; nothing else is ever deleted. */
    static final String DIRECTORY_PREFIX = "overseer-event.";

    private static final int MAX_LINE = 4096;
    private static final int MAX_REQUEST = 4096;
    private static final int MAX_CAUSE = 4096;
    /** Requests read from the pipe and not yet answered; more wait in the pipe, not in memory. */
    private static final int IN_FLIGHT = 64;
    /** Of those, how many one uid may have; beyond it, its requests are refused at once. */
    static final int IN_FLIGHT_PER_UID = 32;

    private static final int FILE_FLAGS =
            ChannelFiles.O_NOFOLLOW | ChannelFiles.O_NONBLOCK | ChannelFiles.O_NOCTTY | ChannelFiles.O_CLOEXEC;

    /** What a job asked for: an event on its own execution, proven by that execution's token. */
    public record Request(String job, long execution, String token, String name, Optional<String> cause) {}

    /** Records a request's event; returns why it was not, or empty once it is stored. */
    @FunctionalInterface
    public interface Handler {
        Optional<String> handle(Request request);
    }

    /** A request the channel refuses before the handler sees it; its message is sent back as is. */
    private static final class Refusal extends Exception {
        Refusal(String message) {
            super(message, null, false, false);
        }
    }

    private final Path path;
    private final Handler handler;
    private final int sender;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final Map<Integer, Integer> inFlightByUid = new HashMap<>();
    /**
     * The pipe is read on this one platform thread: a read that waits for a writer would pin a
     * virtual thread's carrier (the JDK does not compensate for it), and with it the HTTP server.
     */
    private final ExecutorService reader = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("event-pipe").factory());

    private final Supervisor.Handle service;
    // Touched only by the service's thread.
    private RandomAccessFile pipe;
    private final ByteBuffer buffer = ByteBuffer.allocate(MAX_LINE);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean overlong;

    private EventPipe(Path path, Handler handler, int sender, Supervisor supervisor) throws IOException {
        this.path = path;
        this.handler = handler;
        this.sender = sender;
        this.pipe = openPipe(path);
        this.service = supervisor.start(new Reading());
    }

    /**
     * Creates the named pipe at {@code path} (replacing what is there) and serves it with {@code
     * supervisor}, taking requests whose directory and files belong to the uid {@code sender}.
     */
    public static EventPipe start(Path path, Handler handler, int sender, Supervisor supervisor) throws IOException {
        Files.createDirectories(path.getParent());
        Fifos.create(path);
        return new EventPipe(path, handler, sender, supervisor);
    }

    /** The uid of this server, the sender of events when jobs run as the server's own user. */
    public static int serverUid() {
        return ChannelFiles.geteuid();
    }

    public Path path() {
        return path;
    }

    private static RandomAccessFile openPipe(Path path) throws IOException {
        // Read-write, so that it never reads end-of-file when the last job closes its end.
        return new RandomAccessFile(path.toFile(), "rw");
    }

    /** One round: what the pipe has (waiting on the reader thread for it), split into requests. */
    private final class Reading implements BackgroundService {
        @Override
        public String name() {
            return "event-pipe";
        }

        @Override
        public Duration runOnce() throws Exception {
            if (pipe == null) {
                pipe = openPipe(path);
            }
            FileChannel channel = pipe.getChannel();
            buffer.clear();
            int n;
            try {
                n = reader.submit(() -> channel.read(buffer)).get();
            } catch (ExecutionException e) {
                pipe.close();
                pipe = null;
                throw e.getCause() instanceof IOException io
                        ? new IOException("cannot read the pipe " + path + ": " + io.getMessage(), io)
                        : e;
            }
            if (n < 0) {
                pipe.close();
                pipe = null;
                throw new IOException("the pipe " + path + " ended");
            }
            for (int i = 0; i < n; i++) {
                byte b = buffer.get(i);
                if (b != '\n') {
                    if (line.size() < MAX_LINE) {
                        line.write(b);
                    } else {
                        overlong = true;
                    }
                    continue;
                }
                if (!overlong && line.size() > 0) {
                    dispatch(line.toString(StandardCharsets.UTF_8));
                }
                line.reset();
                overlong = false;
            }
            return Duration.ZERO;
        }
    }

    private void dispatch(String line) throws InterruptedException {
        inFlight.acquire();
        Thread.ofVirtual().name("event-request").start(() -> {
            try {
                serve(line);
            } finally {
                inFlight.release();
            }
        });
    }

    /** Where a request directory is: its parent, opened as the server, and its own name there. */
    private record Location(String parent, String name) {
        static Optional<Location> of(String line) {
            if (line.indexOf('\0') >= 0 || !line.startsWith("/")) {
                return Optional.empty();
            }
            Path dir = Path.of(line).normalize();
            if (dir.getFileName() == null
                    || dir.getParent() == null
                    || !dir.getFileName().toString().startsWith(DIRECTORY_PREFIX)) {
                return Optional.empty();
            }
            return Optional.of(
                    new Location(dir.getParent().toString(), dir.getFileName().toString()));
        }
    }

    private void serve(String line) {
        Optional<Location> where;
        try {
            where = Location.of(line);
        } catch (java.nio.file.InvalidPathException e) {
            return;
        }
        if (where.isEmpty()) {
            return;
        }
        Location at = where.get();
        try (ChannelFiles.Descriptor parent = ChannelFiles.openDirectory(at.parent());
                ChannelFiles.Descriptor dir = ChannelFiles.openat(
                        parent,
                        at.name(),
                        ChannelFiles.O_RDONLY
                                | ChannelFiles.O_DIRECTORY
                                | ChannelFiles.O_NOFOLLOW
                                | ChannelFiles.O_CLOEXEC)) {
            ChannelFiles.Stat dirStat = ChannelFiles.fstat(dir);
            if (!dirStat.directory() || dirStat.uid() != sender) {
                // Not a directory of the job's: nothing in it is ours to read or answer.
                return;
            }
            Optional<ChannelFiles.Descriptor> ack = reply(dir);
            try {
                String answer = answer(dir, dirStat.uid());
                ack.ifPresent(a -> send(a, answer));
            } finally {
                ack.ifPresent(ChannelFiles.Descriptor::close);
                cleanUp(parent, at.name(), dir, dirStat);
            }
        } catch (ChannelFiles.Failure e) {
            // Gone, or no directory: no one to answer.
        }
    }

    /** The reply pipe, opened without following a link or waiting: empty when it is no pipe of the job's. */
    private Optional<ChannelFiles.Descriptor> reply(ChannelFiles.Descriptor dir) {
        ChannelFiles.Descriptor ack;
        try {
            ack = ChannelFiles.openat(dir, "ack", ChannelFiles.O_WRONLY | FILE_FLAGS);
        } catch (ChannelFiles.Failure e) {
            // No reader (ENXIO), a link (ELOOP), or absent: nothing to write to.
            return Optional.empty();
        }
        try {
            ChannelFiles.Stat s = ChannelFiles.fstat(ack);
            if (s.fifo() && s.uid() == sender) {
                return Optional.of(ack);
            }
        } catch (ChannelFiles.Failure e) {
            // Treated as no pipe.
        }
        ack.close();
        return Optional.empty();
    }

    private static void send(ChannelFiles.Descriptor ack, String answer) {
        try {
            ChannelFiles.write(ack, (answer.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (ChannelFiles.Failure e) {
            // The pipe is full or its reader went away: the helper times out on its own.
        }
    }

    /** The one-line answer to a request: {@code ok}, or why not. */
    private String answer(ChannelFiles.Descriptor dir, int uid) {
        if (!enter(uid)) {
            return "busy: uid " + uid + " has " + IN_FLIGHT_PER_UID + " event requests in flight; try again";
        }
        try {
            return handler.handle(request(dir)).orElse("ok");
        } catch (Refusal e) {
            return e.getMessage();
        } catch (IllegalArgumentException e) {
            // The handler's own refusal of the job's request (a bad event name, say): it names
            // what the job sent, which is the job's own file, read through O_NOFOLLOW.
            return e.getMessage();
        } catch (RuntimeException e) {
            log.error("events: a request failed: {}", e.toString());
            return "the server failed to record the event; see its log";
        } finally {
            leave(uid);
        }
    }

    private synchronized boolean enter(int uid) {
        int n = inFlightByUid.getOrDefault(uid, 0);
        if (n >= IN_FLIGHT_PER_UID) {
            return false;
        }
        inFlightByUid.put(uid, n + 1);
        return true;
    }

    private synchronized void leave(int uid) {
        inFlightByUid.computeIfPresent(uid, (k, n) -> n <= 1 ? null : n - 1);
    }

    private Request request(ChannelFiles.Descriptor dir) throws Refusal {
        String text = small(dir, "request", MAX_REQUEST).orElseThrow(() -> new Refusal("the request file is missing"));
        String[] lines = text.split("\n", -1);
        if (lines.length < 4) {
            throw new Refusal("the request is incomplete");
        }
        long execution;
        try {
            execution = Long.parseLong(lines[1]);
        } catch (NumberFormatException e) {
            throw new Refusal("the request's OVERSEER_EXECUTION is not a number");
        }
        String cause = small(dir, "cause", MAX_CAUSE * 4).orElse("");
        if (cause.length() > MAX_CAUSE) {
            throw new Refusal("the cause is longer than " + MAX_CAUSE + " characters");
        }
        return new Request(
                lines[0], execution, lines[2], lines[3], cause.isEmpty() ? Optional.empty() : Optional.of(cause));
    }

    /** A small regular file of the sender's in the directory, read through its descriptor; empty when absent. */
    private Optional<String> small(ChannelFiles.Descriptor dir, String name, int limit) throws Refusal {
        ChannelFiles.Descriptor file;
        try {
            file = ChannelFiles.openat(dir, name, ChannelFiles.O_RDONLY | FILE_FLAGS);
        } catch (ChannelFiles.Failure e) {
            if (e.errno == ChannelFiles.ENOENT) {
                return Optional.empty();
            }
            throw new Refusal(
                    e.errno == ChannelFiles.ELOOP
                            ? "the " + name + " file is a symbolic link, not a regular file"
                            : "cannot open the " + name + " file (" + e.getMessage() + ")");
        }
        try (file) {
            ChannelFiles.Stat s = ChannelFiles.fstat(file);
            if (!s.regular()) {
                throw new Refusal("the " + name + " file is not a regular file");
            }
            if (s.uid() != sender) {
                throw new Refusal("the " + name + " file does not belong to uid " + sender);
            }
            byte[] bytes = ChannelFiles.readAtMost(file, limit);
            if (bytes.length > limit) {
                throw new Refusal("the " + name + " file is larger than " + limit + " bytes");
            }
            return Optional.of(new String(bytes, StandardCharsets.UTF_8));
        } catch (ChannelFiles.Failure e) {
            throw new Refusal("cannot read the " + name + " file (" + e.getMessage() + ")");
        }
    }

    /**
     * Removes what the helper made, through the directory's descriptor, and the directory itself
     * if its name still means the directory that was read and it is empty.
     */
    private static void cleanUp(
            ChannelFiles.Descriptor parent, String name, ChannelFiles.Descriptor dir, ChannelFiles.Stat dirStat) {
        for (String file : List.of("request", "cause", "ack")) {
            try {
                ChannelFiles.unlinkat(dir, file);
            } catch (ChannelFiles.Failure e) {
                // Absent, or left for the helper's own clean-up; it is in the job's temporary directory.
            }
        }
        try {
            if (ChannelFiles.lstatAt(parent, name).sameFile(dirStat)) {
                ChannelFiles.rmdirAt(parent, name);
            }
        } catch (ChannelFiles.Failure e) {
            // Not empty: the helper put something else there. Leave it.
        }
    }

    /** Stops reading; requests already read are still answered. */
    @Override
    public void close() {
        service.close();
        reader.shutdownNow();
        try {
            // Closing the channel wakes the reader thread from its read.
            if (pipe != null) {
                pipe.close();
            }
        } catch (IOException e) {
            // Closing: nothing more to do.
        }
    }
}
