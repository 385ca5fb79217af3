package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The client side of a restore: streams a restore point's chunks in order, decodes each one
 * (which checks its checksum, authentication tag and id), and writes it at its offset. A chunk that
 * fails any check stops the restore with {@link RepositoryException.Reason#DAMAGED}: damaged data is
 * never written as good.
 */
public final class RestoreReader {

    private final Repository repository;
    private final ChunkCodec codec;
    private final int window;

    public RestoreReader(Repository repository, ChunkCodec codec, int window) {
        this.repository = repository;
        this.codec = codec;
        this.window = window;
    }

    /** Restores into {@code target}; with {@code targetIsZeroed} zero chunks are skipped, else written. */
    public RestorePointIndex restore(PointRef point, FileChannel target, boolean targetIsZeroed) throws IOException {
        RestorePointIndex idx = repository.readPoint(point);
        int n = idx.chunks().size();
        if (!targetIsZeroed) {
            for (int i = 0; i < n; i++) {
                if (idx.chunks().get(i).isZero()) {
                    write(target, (long) i * idx.chunkSizeBytes(), new byte[idx.chunkLength(i)]);
                }
            }
        }
        for (int from = 0; from < n; from += window) {
            int count = Math.min(window, n - from);
            repository.readChunks(point, from, count, (i, id, stored, length) -> {
                ChunkId expected = idx.chunks().get(i);
                if (!expected.equals(id)) {
                    throw new RepositoryException(RepositoryException.Reason.PROTOCOL, "the repository sent chunk "
                            + id + " for position " + i + " of " + point + ", which needs " + expected);
                }
                byte[] plain;
                try {
                    plain = codec.decode(id, stored, length);
                } catch (FormatException e) {
                    throw new RepositoryException(RepositoryException.Reason.DAMAGED, "restore of " + point
                            + " stopped at chunk " + i + ": " + e.getMessage(), e);
                }
                if (plain.length != idx.chunkLength(i)) {
                    throw new RepositoryException(RepositoryException.Reason.DAMAGED, "chunk " + i + " of " + point
                            + " has " + plain.length + " bytes, expected " + idx.chunkLength(i));
                }
                write(target, (long) i * idx.chunkSizeBytes(), plain);
            });
        }
        target.force(true);
        return idx;
    }

    private static void write(FileChannel target, long offset, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            target.write(b, offset + b.position());
        }
    }
}
