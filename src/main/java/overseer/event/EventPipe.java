package overseer.event;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.process.Fifos;

/**
 * The server end of the {@code event} helper (lib-scripts/event). A job cannot open a socket from
 * plain sh, so it writes the path of a private request directory, one short line, into this
 * named pipe; lines under PIPE_BUF are written whole, so concurrent jobs never interleave. The
 * directory holds the request ({@code request}: job, execution, token, name; {@code cause}) and a
 * named pipe {@code ack} that the answer goes back on: {@code ok} once the event is stored, or the
 * reason it was not. One platform thread reads the pipe (a blocking read would pin a virtual
 * thread's carrier); each request is handled on a virtual thread, at most {@link #IN_FLIGHT} at a
 * time, so a burst waits in the pipe instead of in memory.
 */
public final class EventPipe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventPipe.class);
    /** The prefix the helper gives its request directories; nothing else is ever deleted. */
    static final String DIRECTORY_PREFIX = "overseer-event.";

    private static final int MAX_LINE = 4096;
    private static final int MAX_REQUEST = 4096;
    private static final int MAX_CAUSE = 4096;
    private static final int IN_FLIGHT = 64;

    /** What a job asked for: an event on its own execution, proven by that execution's token. */
    public record Request(String job, long execution, String token, String name, Optional<String> cause) {}

    /** Records a request's event; returns why it was not, or empty once it is stored. */
    @FunctionalInterface
    public interface Handler {
        Optional<String> handle(Request request);
    }

    private final Path path;
    private final Handler handler;
    private final RandomAccessFile pipe;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final Thread reader;
    private volatile boolean closed;

    private EventPipe(Path path, Handler handler) throws IOException {
        this.path = path;
        this.handler = handler;
        // Read-write, so that it never reads end-of-file when the last job closes its end.
        this.pipe = new RandomAccessFile(path.toFile(), "rw");
        this.reader = Thread.ofPlatform().daemon().name("event-pipe").start(this::read);
    }

    /** Creates the named pipe at {@code path} (replacing what is there) and starts serving it. */
    public static EventPipe open(Path path, Handler handler) throws IOException {
        Files.createDirectories(path.getParent());
        Fifos.create(path);
        return new EventPipe(path, handler);
    }

    public Path path() {
        return path;
    }

    private void read() {
        InputStream in = Channels.newInputStream(pipe.getChannel());
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        boolean overlong = false;
        byte[] buffer = new byte[MAX_LINE];
        try {
            int n;
            while (!closed && (n = in.read(buffer)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != '\n') {
                        if (line.size() < MAX_LINE) {
                            line.write(buffer[i]);
                        } else {
                            overlong = true;
                        }
                        continue;
                    }
                    if (!overlong && line.size() > 0 && !closed) {
                        dispatch(line.toString(StandardCharsets.UTF_8));
                    }
                    line.reset();
                    overlong = false;
                }
            }
        } catch (IOException e) {
            if (!closed) {
                log.error("events: the pipe {} failed; the event helper stops working: {}", path, e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dispatch(String line) throws InterruptedException {
        inFlight.acquire();
        Thread.ofVirtual().name("event-request").start(() -> {
            try {
                serve(Path.of(line));
            } finally {
                inFlight.release();
            }
        });
    }

    private void serve(Path dir) {
        if (!dir.isAbsolute()
                || dir.getFileName() == null
                || !dir.getFileName().toString().startsWith(DIRECTORY_PREFIX)
                || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Optional<String> refusal;
        try {
            refusal = handler.handle(request(dir));
        } catch (IllegalArgumentException e) {
            refusal = Optional.of(e.getMessage());
        } catch (IOException e) {
            refusal = Optional.of("cannot read the request: " + e.getMessage());
        } catch (RuntimeException e) {
            log.error("events: a request from {} failed", dir, e);
            refusal = Optional.of("the server failed: " + e.getMessage());
        }
        String reply = refusal.map(r -> r.replace('\n', ' ')).orElse("ok") + "\n";
        Fifos.offer(dir.resolve("ack"), reply.getBytes(StandardCharsets.UTF_8));
        for (String name : List.of("request", "cause", "ack")) {
            try {
                Files.deleteIfExists(dir.resolve(name));
            } catch (IOException e) {
                // Left for the helper's own clean-up; it is in the job's temporary directory.
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // Not empty: the helper put something else there. Leave it.
        }
    }

    private static Request request(Path dir) throws IOException {
        String text = small(dir.resolve("request"), MAX_REQUEST, "request");
        String[] lines = text.split("\n", -1);
        if (lines.length < 4) {
            throw new IllegalArgumentException("the request is incomplete");
        }
        long execution;
        try {
            execution = Long.parseLong(lines[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("OVERSEER_EXECUTION '" + lines[1] + "' is not a number");
        }
        Path causeFile = dir.resolve("cause");
        String cause = Files.exists(causeFile) ? small(causeFile, MAX_CAUSE * 4, "cause") : "";
        if (cause.length() > MAX_CAUSE) {
            throw new IllegalArgumentException("the cause is longer than " + MAX_CAUSE + " characters");
        }
        return new Request(
                lines[0], execution, lines[2], lines[3], cause.isEmpty() ? Optional.empty() : Optional.of(cause));
    }

    private static String small(Path file, int limit, String what) throws IOException {
        if (Files.size(file) > limit) {
            throw new IllegalArgumentException("the " + what + " is larger than " + limit + " bytes");
        }
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /** Stops reading; requests already read are still answered. */
    @Override
    public void close() {
        closed = true;
        // Wake the reader, which holds the only other open end.
        Fifos.offer(path, "\n".getBytes(StandardCharsets.UTF_8));
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            pipe.close();
        } catch (IOException e) {
            // Closing: nothing more to do.
        }
    }
}
