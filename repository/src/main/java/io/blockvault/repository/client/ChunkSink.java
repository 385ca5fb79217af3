package io.blockvault.repository.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Where a restore writes a device image. {@link #write} and {@link #zero} are called from several
 * threads at once, each for its own chunk; {@link #finish} once at the end (flush to stable storage).
 */
public interface ChunkSink {

    void write(long offset, byte[] data, int length) throws IOException;

    /** Makes {@code length} bytes at {@code offset} read back as zeroes. */
    void zero(long offset, long length) throws IOException;

    void finish() throws IOException;

    /** Positional writes through the page cache; zeroes are written as zero bytes. */
    static ChunkSink of(FileChannel channel) {
        return new ChunkSink() {
            @Override
            public void write(long offset, byte[] data, int length) throws IOException {
                ByteBuffer b = ByteBuffer.wrap(data, 0, length);
                while (b.hasRemaining()) {
                    channel.write(b, offset + b.position());
                }
            }

            @Override
            public void zero(long offset, long length) throws IOException {
                byte[] zeros = new byte[(int) Math.min(length, 1 << 20)];
                for (long done = 0; done < length; done += zeros.length) {
                    write(offset + done, zeros, (int) Math.min(zeros.length, length - done));
                }
            }

            @Override
            public void finish() throws IOException {
                channel.force(true);
            }
        };
    }
}
