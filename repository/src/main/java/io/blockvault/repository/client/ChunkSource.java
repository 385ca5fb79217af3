package io.blockvault.repository.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Where a backup reads a device image from. Called from one thread, in ascending offsets; an
 * implementation may use O_DIRECT and aligned buffers (the node agent's device reader does).
 */
@FunctionalInterface
public interface ChunkSource {

    /** Fills {@code dst[0..length)} with the image bytes at {@code offset}, or fails. */
    void read(long offset, byte[] dst, int length) throws IOException;

    /** Plain positional reads through the page cache. */
    static ChunkSource of(FileChannel channel) {
        return (offset, dst, length) -> {
            ByteBuffer bb = ByteBuffer.wrap(dst, 0, length);
            while (bb.hasRemaining()) {
                if (channel.read(bb, offset + bb.position()) < 0) {
                    throw new IOException("device image ended at " + (offset + bb.position()) + " bytes, expected at"
                            + " least " + (offset + length) + "; the device changed size during the backup");
                }
            }
        };
    }
}
