package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the node agent and the operator can ask of a repository, remote ({@link TransportClient})
 * or local ({@code RepositoryStore}). All chunk bytes here are stored form (header + payload):
 * {@link io.blockvault.repository.format.ChunkCodec} encodes and decodes on the client.
 */
public interface Repository extends AutoCloseable {

    /** Receives chunks of a restore in device order. */
    @FunctionalInterface
    interface ChunkConsumer {
        void accept(int index, ChunkId id, byte[] stored, int length) throws IOException;
    }

    /**
     * Which of {@code ids} the repository lacks. The ones it has are leased to {@code sessionId}:
     * garbage collection keeps them until the session commits or its lease expires.
     */
    Set<ChunkId> missingChunks(String node, String sessionId, List<ChunkId> ids) throws IOException;

    /** Stores a chunk; a chunk that exists already is a no-op (returns false). */
    boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException;

    /**
     * Commits a restore point. Fails with {@link RepositoryException.Reason#MISSING_CHUNKS} if any
     * referenced chunk is absent (upload them and commit again). Committing the identical index again
     * is a no-op; a different index under an existing id is refused.
     */
    void commit(RestorePointIndex index, String sessionId) throws IOException;

    /** Restore points of one node, or of all nodes when {@code node} is empty (operator only). */
    List<PointSummary> listPoints(Optional<String> node) throws IOException;

    RestorePointIndex readPoint(PointRef point) throws IOException;

    /** Streams chunks {@code from .. from+count-1} of a restore point in order (zero chunks are skipped). */
    void readChunks(PointRef point, int from, int count, ChunkConsumer consumer) throws IOException;

    /**
     * Asks for a restore point to be deleted. Refused with {@link RepositoryException.Reason#LOCKED}
     * while it is immutable; otherwise the guard deletes it within its next cycle. Returns when the
     * request was recorded.
     */
    Instant requestDelete(PointRef point) throws IOException;

    /** Re-reads every chunk of the given points and checks each one's checksum. */
    VerifyReport verify(List<PointRef> points) throws IOException;

    /**
     * Space, stored and logical bytes, restore point counts and the guard's status (operator only).
     * Cheap: answered from counters and cached point sizes, never by reading chunks. A default so that
     * wrappers which do not need it (test doubles) need not forward it.
     */
    default RepositoryStats stats() throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " does not report repository statistics");
    }

    @Override
    void close() throws IOException;
}
