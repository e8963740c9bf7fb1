package overseer.output;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a process's stdout and stderr to the files {@code stdout} and {@code stderr}, and
 * records their interleaving in the {@link OutputIndex}, each read written at once (so the files can be read while the job
 * runs) through one fixed 256 KiB buffer per stream: memory stays the same whatever the job prints.
 * Output that could not be written is not lost silently: {@link #failure} says why.
 */
public final class OutputCapture {
    private static final Logger log = LoggerFactory.getLogger(OutputCapture.class);

    private final Path dir;
    private final OutputIndex combined;
    private final Thread stdout;
    private final Thread stderr;
    private final AtomicReference<String> failure;
    private boolean closed;

    private OutputCapture(
            Path dir, OutputIndex combined, Thread stdout, Thread stderr, AtomicReference<String> failure) {
        this.dir = dir;
        this.combined = combined;
        this.stdout = stdout;
        this.stderr = stderr;
        this.failure = failure;
    }

    /** Creates the directory of an execution's output; its files come with their first bytes. */
    public static void prepare(Path dir) throws IOException {
        java.nio.file.Files.createDirectories(dir);
    }

    /**
     * How much output an execution may write in all: past {@code bytes}, the rest is read and
     * dropped, and {@code exceeded} is told, once.
     */
    public static final class Quota {
        private final java.util.concurrent.atomic.AtomicLong left;
        private final Runnable exceeded;
        private final java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();

        public Quota(long bytes, Runnable exceeded) {
            this.left = new java.util.concurrent.atomic.AtomicLong(bytes);
            this.exceeded = exceeded;
        }

        /** How many of {@code n} bytes may still be written. */
        int take(int n) {
            long before = left.getAndAdd(-n);
            if (before >= n) {
                return n;
            }
            if (told.compareAndSet(false, true)) {
                exceeded.run();
            }
            return (int) Math.max(0, before);
        }
    }

    /**
     * Starts copying. A file is created when its first byte comes, not before: most executions
     * leave stderr empty, and each file created costs the server as much as a database commit.
     * Readers take a missing file as empty.
     */
    public static OutputCapture start(
            Path dir, InputStream out, InputStream err, List<String> secrets, Quota quota, String name) {
        OutputIndex index = new OutputIndex(dir);
        AtomicReference<String> failure = new AtomicReference<>();
        Consumer<String> failed = why -> failure.compareAndSet(null, why);
        // Platform threads: a blocking pipe read would hold a virtual thread's carrier for as long
        // as a quiet job runs.
        Thread a = Thread.ofPlatform()
                .daemon()
                .name(name + "-stdout")
                .start(new OutputPump(
                        out,
                        dir.resolve("stdout"),
                        index,
                        OutputIndex.Stream.STDOUT,
                        new SecretMask(secrets),
                        quota,
                        failed));
        Thread b = Thread.ofPlatform()
                .daemon()
                .name(name + "-stderr")
                .start(new OutputPump(
                        err,
                        dir.resolve("stderr"),
                        index,
                        OutputIndex.Stream.STDERR,
                        new SecretMask(secrets),
                        quota,
                        failed));
        return new OutputCapture(dir, index, a, b, failure);
    }

    /**
     * Why some of the output was lost (the first failure to write or read it), once the streams
     * ended; what was captured before it is kept.
     */
    public Optional<String> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Waits until both streams reached their end, at most {@code limit}; true when they did. */
    public boolean awaitEnd(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        stdout.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        stderr.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        boolean ended = !stdout.isAlive() && !stderr.isAlive();
        if (ended && !closed) {
            closed = true;
            try (combined) {
                combined.sync();
            } catch (IOException e) {
                log.error("execution: cannot write the output index of {}: {}", dir, e.getMessage());
                failure.compareAndSet(null, "cannot write its output: " + e.getMessage());
            }
        }
        return ended;
    }

    /**
     * Makes the captured output durable. Streams that reached their end forced their own files
     * (and {@link #awaitEnd} the index); this is for output still held open by a process that
     * could not be killed, and forces what the files hold so far.
     */
    public void sync() {
        if (closed) {
            return;
        }
        for (String name : List.of("stdout", "stderr", OutputIndex.FILE)) {
            try (FileChannel file = FileChannel.open(dir.resolve(name), StandardOpenOption.WRITE)) {
                file.force(true);
            } catch (java.nio.file.NoSuchFileException e) {
                // Nothing was written to it.
            } catch (IOException e) {
                log.error("execution: cannot sync {}: {}", dir.resolve(name), e.getMessage());
                failure.compareAndSet(null, "cannot write its output: " + e.getMessage());
            }
        }
    }
}
