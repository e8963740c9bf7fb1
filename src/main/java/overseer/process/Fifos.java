package overseer.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Named pipes, which the JDK can neither create nor open without blocking. */
public final class Fifos {
    private Fifos() {}

    /** Makes {@code path} a named pipe only its owner may use, replacing anything else there. */
    public static void create(Path path) throws IOException {
        BasicFileAttributes attributes = null;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            // Nothing there yet.
        }
        if (attributes != null && attributes.isOther()) {
            return;
        }
        if (attributes != null) {
            Files.delete(path);
        }
        try {
            Libc.mkfifo(path.toString(), 0600);
        } catch (Libc.Failure e) {
            throw new IOException("cannot create the named pipe " + path + ": " + e.getMessage());
        }
    }

    /**
     * Writes {@code bytes} to a named pipe if a reader has it open, without waiting for one:
     * false when there is no reader (it went away) or the path is no pipe.
     */
    public static boolean offer(Path fifo, byte[] bytes) {
        try {
            if (!Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .isOther()) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        int fd;
        try {
            fd = Libc.open(fifo.toString(), Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        } catch (Libc.Failure e) {
            return false;
        }
        try {
            return Libc.write(fd, bytes) == bytes.length;
        } catch (Libc.Failure e) {
            return false;
        } finally {
            Libc.close(fd);
        }
    }
}
