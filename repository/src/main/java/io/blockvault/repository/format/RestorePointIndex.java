package io.blockvault.repository.format;

import java.util.List;
import java.util.Optional;

/**
 * One restore point: a logical full image of one device, as chunk ids in device order
 * ({@link ChunkId#ZERO} for an all-zero chunk). The last chunk may be shorter than the chunk size.
 */
public record RestorePointIndex(String pointId, String node, DeviceIdentity device, int chunkSizeBytes,
        ChangeId changeId, Optional<String> parentPointId, long startedAtMillis, long finishedAtMillis,
        int keyId, PointStats stats, List<ChunkId> chunks) {

    public RestorePointIndex {
        Names.requirePoint(pointId);
        Names.requireNode(node);
        parentPointId.ifPresent(Names::requirePoint);
        if (chunkSizeBytes < 4096 || chunkSizeBytes > ChunkHeader.MAX_PLAIN_SIZE || chunkSizeBytes % 4096 != 0) {
            throw new IllegalArgumentException("chunk size must be a multiple of 4096 up to "
                    + ChunkHeader.MAX_PLAIN_SIZE + ", got " + chunkSizeBytes);
        }
        long expected = chunkCount(device.sizeBytes(), chunkSizeBytes);
        if (chunks.size() != expected) {
            throw new IllegalArgumentException("a device of " + device.sizeBytes() + " bytes in chunks of "
                    + chunkSizeBytes + " has " + expected + " chunks, the index lists " + chunks.size());
        }
        chunks = List.copyOf(chunks);
    }

    public static long chunkCount(long deviceSize, int chunkSize) {
        return (deviceSize + chunkSize - 1) / chunkSize;
    }

    /** Plaintext length of chunk {@code i} (the last one may be short). */
    public int chunkLength(int i) {
        long start = (long) i * chunkSizeBytes;
        return (int) Math.min(chunkSizeBytes, device.sizeBytes() - start);
    }
}
