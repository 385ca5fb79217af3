package io.blockvault.agent.device;

import com.sun.nio.file.ExtendedOpenOption;
import io.blockvault.repository.client.ChunkSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Reads a device (or a snapshot image, or an image file) for a backup, in large aligned reads with
 * O_DIRECT into an aligned direct buffer, so a backup neither pollutes nor depends on the page
 * cache. Falls back to buffered reads, with a note, where O_DIRECT is refused (tmpfs, some
 * filesystems). Used from one thread.
 */
public final class DeviceReader implements ChunkSource, AutoCloseable {

    /** Alignment that satisfies every logical block size up to 4 KiB. */
    public static final int ALIGNMENT = 4096;

    private final Path path;
    private final FileChannel channel;
    private final boolean direct;
    private final Optional<String> note;
    private ByteBuffer aligned;

    private DeviceReader(Path path, FileChannel channel, boolean direct, Optional<String> note) {
        this.path = path;
        this.channel = channel;
        this.direct = direct;
        this.note = note;
    }

    /** Opens {@code path}; with {@code preferDirect}, tries O_DIRECT first. */
    public static DeviceReader open(Path path, boolean preferDirect) throws IOException {
        return open(path, preferDirect, p -> FileChannel.open(p, StandardOpenOption.READ, ExtendedOpenOption.DIRECT));
    }

    /** Opens a channel with O_DIRECT; tests substitute one that fails as unsupporting filesystems do. */
    @FunctionalInterface
    interface DirectOpener {
        FileChannel open(Path path) throws IOException;
    }

    static DeviceReader open(Path path, boolean preferDirect, DirectOpener direct) throws IOException {
        if (preferDirect) {
            try {
                return new DeviceReader(path, direct.open(path), true, Optional.empty());
            } catch (IOException | UnsupportedOperationException e) {
                return new DeviceReader(path, FileChannel.open(path, StandardOpenOption.READ), false,
                        Optional.of("O_DIRECT is not supported for " + path + " (" + e.getMessage()
                                + "); reading through the page cache"));
            }
        }
        return new DeviceReader(path, FileChannel.open(path, StandardOpenOption.READ), false, Optional.empty());
    }

    public boolean direct() {
        return direct;
    }

    /** Why O_DIRECT is not used, when it was wanted but refused. */
    public Optional<String> note() {
        return note;
    }

    @Override
    public void read(long offset, byte[] dst, int length) throws IOException {
        if (!direct) {
            ChunkSource.of(channel).read(offset, dst, length);
            return;
        }
        if (offset % ALIGNMENT != 0) {
            throw new IllegalArgumentException("O_DIRECT reads must start at a multiple of " + ALIGNMENT);
        }
        int rounded = (length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        if (aligned == null || aligned.capacity() < rounded) {
            aligned = ByteBuffer.allocateDirect(rounded + ALIGNMENT).alignedSlice(ALIGNMENT);
        }
        ByteBuffer b = aligned.clear().limit(rounded);
        while (b.position() < length) {
            int n = channel.read(b, offset + b.position());
            if (n < 0 || (n == 0 && b.position() < length)) {
                throw new IOException(path + " ended at " + (offset + b.position()) + " bytes while reading "
                        + length + " bytes at " + offset + "; the device changed size during the backup");
            }
        }
        b.flip();
        b.get(dst, 0, length);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
