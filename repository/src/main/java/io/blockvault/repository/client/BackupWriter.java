package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.EncodedChunk;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The client side of a backup: reads a device image in chunk-size pieces, skips zero chunks,
 * encodes the others on a worker pool, asks the repository which ids it lacks, uploads only those,
 * and commits the index. Memory is bounded by {@code batch} chunks. Re-running an interrupted
 * backup uploads only what did not arrive the first time.
 */
public final class BackupWriter {

    private final Repository repository;
    private final ChunkCodec codec;
    private final ExecutorService workers;
    private final int batch;

    public BackupWriter(Repository repository, ChunkCodec codec, ExecutorService workers, int batch) {
        this.repository = repository;
        this.codec = codec;
        this.workers = workers;
        this.batch = batch;
    }

    public RestorePointIndex backup(BackupRequest req, FileChannel source) throws IOException {
        long started = System.currentTimeMillis();
        String session = "s" + UUID.randomUUID().toString().replace("-", "");
        int n = (int) RestorePointIndex.chunkCount(req.device().sizeBytes(), req.chunkSizeBytes());
        List<ChunkId> ids = new ArrayList<>(n);
        long scanned = 0;
        long sent = 0;
        long fresh = 0;
        long zero = 0;
        long reused = 0;
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int chunk = i;
            boolean read = req.changedChunks().map(c -> c.get(chunk)).orElse(true);
            if (!read) {
                ids.add(req.parent().orElseThrow().chunks().get(i));
                reused++;
                continue;
            }
            ids.add(null);
            pending.add(i);
            if (pending.size() == batch) {
                long[] r = processBatch(req, source, session, pending, ids);
                scanned += r[0];
                sent += r[1];
                fresh += r[2];
                zero += r[3];
                reused += r[4];
                pending.clear();
            }
        }
        if (!pending.isEmpty()) {
            long[] r = processBatch(req, source, session, pending, ids);
            scanned += r[0];
            sent += r[1];
            fresh += r[2];
            zero += r[3];
            reused += r[4];
        }
        RestorePointIndex index = new RestorePointIndex(req.pointId(), req.node(), req.device(), req.chunkSizeBytes(),
                req.changeId(), req.parent().map(RestorePointIndex::pointId), started, System.currentTimeMillis(),
                0, new PointStats(scanned, sent, fresh, zero, reused), ids);
        try {
            repository.commit(index, session);
        } catch (RepositoryException e) {
            if (e.reason() != RepositoryException.Reason.ALREADY_EXISTS) {
                throw e;
            }
            // An earlier attempt committed this point and the connection dropped before we heard so:
            // the same image (same chunks) means the backup is complete.
            RestorePointIndex existing = repository.readPoint(new PointRef(req.node(), req.pointId()));
            if (!existing.chunks().equals(ids) || !existing.device().equals(req.device())
                    || existing.chunkSizeBytes() != req.chunkSizeBytes()) {
                throw e;
            }
            return existing;
        }
        return index;
    }

    /** Returns {scanned, sent, new, zero, reused}. */
    private long[] processBatch(BackupRequest req, FileChannel source, String session, List<Integer> indexes,
            List<ChunkId> ids) throws IOException {
        long[] r = new long[5];
        List<Future<Optional<EncodedChunk>>> futures = new ArrayList<>();
        for (int i : indexes) {
            long offset = (long) i * req.chunkSizeBytes();
            int len = (int) Math.min(req.chunkSizeBytes(), req.device().sizeBytes() - offset);
            byte[] buf = new byte[len];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            while (bb.hasRemaining()) {
                if (source.read(bb, offset + bb.position()) < 0) {
                    throw new IOException("device image ended at " + (offset + bb.position()) + " bytes, expected "
                            + req.device().sizeBytes() + "; the device changed size during the backup");
                }
            }
            r[0] += len;
            futures.add(workers.submit(() -> ChunkCodec.isAllZero(buf, 0, len) ? Optional.empty()
                    : Optional.of(codec.encode(buf, 0, len))));
        }
        List<EncodedChunk> encoded = new ArrayList<>();
        for (int k = 0; k < indexes.size(); k++) {
            Optional<EncodedChunk> e = await(futures.get(k));
            if (e.isEmpty()) {
                ids.set(indexes.get(k), ChunkId.ZERO);
                r[3]++;
            } else {
                ids.set(indexes.get(k), e.get().id());
                encoded.add(e.get());
            }
        }
        if (encoded.isEmpty()) {
            return r;
        }
        Set<ChunkId> missing = repository.missingChunks(req.node(), session,
                encoded.stream().map(EncodedChunk::id).toList());
        // Uploads run on the worker pool, so a thread-safe repository (a ConnectionPool) sends them as
        // parallel streams; a single TransportClient serialises them.
        List<Future<Boolean>> uploads = new ArrayList<>();
        for (EncodedChunk e : encoded) {
            if (missing.remove(e.id())) {
                uploads.add(workers.submit(() -> repository.putChunk(req.node(), e.id(), e.stored(),
                        e.stored().length)));
                r[1] += e.stored().length;
                r[2]++;
            } else {
                r[4]++;
            }
        }
        IOException failure = null;
        for (Future<Boolean> f : uploads) {
            try {
                await(f);
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
        return r;
    }

    private static <T> T await(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("backup interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("encoding a chunk failed: " + e.getCause().getMessage(), e.getCause());
        }
    }
}
