package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Several {@link TransportClient} connections behind one thread-safe {@link Repository}: each call
 * borrows a free connection, so concurrent uploads (BackupWriter's workers) travel as parallel
 * streams. A connection that failed is replaced on next use by a fresh one.
 */
public final class ConnectionPool implements Repository {

    /** Opens one connection. */
    @FunctionalInterface
    public interface Connector {
        TransportClient connect() throws IOException;
    }

    private final Connector connector;
    private final BlockingQueue<Optional<TransportClient>> free;
    private final int size;

    public ConnectionPool(Connector connector, int size) {
        this.connector = connector;
        this.size = size;
        this.free = new ArrayBlockingQueue<>(size);
        for (int i = 0; i < size; i++) {
            free.add(Optional.empty());
        }
    }

    public static ConnectionPool of(TransportClient.Endpoint endpoint, int size) {
        return new ConnectionPool(() -> TransportClient.connect(endpoint), size);
    }

    public int size() {
        return size;
    }

    @FunctionalInterface
    private interface Call<T> {
        T run(TransportClient c) throws IOException;
    }

    private <T> T with(Call<T> call) throws IOException {
        Optional<TransportClient> slot;
        try {
            slot = free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for a repository connection", e);
        }
        TransportClient c = null;
        try {
            c = slot.isPresent() ? slot.get() : connector.connect();
            T result = call.run(c);
            free.add(Optional.of(c));
            return result;
        } catch (RepositoryException e) {
            boolean connectionOk = e.reason() != RepositoryException.Reason.PROTOCOL
                    && e.reason() != RepositoryException.Reason.FRAME_TOO_LARGE && c != null;
            free.add(connectionOk ? Optional.of(c) : Optional.empty());
            if (!connectionOk && c != null) {
                c.close();
            }
            throw e;
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                c.close();
            }
            free.add(Optional.empty());
            throw e;
        }
    }

    @Override
    public Set<ChunkId> missingChunks(String node, String sessionId, List<ChunkId> ids) throws IOException {
        return with(c -> c.missingChunks(node, sessionId, ids));
    }

    @Override
    public boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException {
        return with(c -> c.putChunk(node, id, stored, length));
    }

    @Override
    public void commit(RestorePointIndex index, String sessionId) throws IOException {
        with(c -> {
            c.commit(index, sessionId);
            return null;
        });
    }

    @Override
    public List<PointSummary> listPoints(Optional<String> node) throws IOException {
        return with(c -> c.listPoints(node));
    }

    @Override
    public RestorePointIndex readPoint(PointRef point) throws IOException {
        return with(c -> c.readPoint(point));
    }

    @Override
    public void readChunks(PointRef point, int from, int count, ChunkConsumer consumer) throws IOException {
        with(c -> {
            c.readChunks(point, from, count, consumer);
            return null;
        });
    }

    @Override
    public Instant requestDelete(PointRef point) throws IOException {
        return with(c -> c.requestDelete(point));
    }

    @Override
    public VerifyReport verify(List<PointRef> points) throws IOException {
        return with(c -> c.verify(points));
    }

    @Override
    public RepositoryStats stats() throws IOException {
        return with(TransportClient::stats);
    }

    @Override
    public void close() throws IOException {
        List<Optional<TransportClient>> all = new ArrayList<>();
        free.drainTo(all);
        for (Optional<TransportClient> c : all) {
            if (c.isPresent()) {
                c.get().close();
            }
        }
    }
}
