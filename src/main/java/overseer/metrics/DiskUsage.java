package overseer.metrics;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of the regular files under a directory, for a gauge. Walking tens of thousands of
 * execution directories costs a stat each, so a figure is reused for {@code maxAge} rather than
 * walked again on every scrape.
 */
public final class DiskUsage {
    private final Path root;
    private final long maxAgeNanos;
    private long measuredAt;
    private long bytes = -1;

    public DiskUsage(Path root, Duration maxAge) {
        this.root = root;
        this.maxAgeNanos = maxAge.toNanos();
    }

    /** The total, measured again when the last measurement is older than the maximum age. */
    public synchronized long bytes() {
        long now = System.nanoTime();
        if (bytes < 0 || now - measuredAt > maxAgeNanos) {
            bytes = walk();
            measuredAt = now;
        }
        return bytes;
    }

    private long walk() {
        AtomicLong total = new AtomicLong();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    if (attributes.isRegularFile()) {
                        total.addAndGet(attributes.size());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    // Removed by retention while walking, or unreadable: it does not count.
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // The root itself is gone or unreadable; what was counted stands.
        }
        return total.get();
    }
}
