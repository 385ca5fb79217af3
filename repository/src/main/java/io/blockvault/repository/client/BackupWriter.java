package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.EncodedChunk;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client side of a backup, as a pipeline with bounded memory: the calling thread reads the
 * image in chunk-size pieces into a fixed pool of {@code batch * (batchesInFlight + 1)} buffers;
 * workers detect zero chunks and compute the ids (HMAC) of the others; per batch one lack check
 * asks which ids the repository lacks; only those are encoded (zstd, AES-256-GCM) and uploaded, by
 * {@link Options#uploadsInFlight} threads at once (give a {@link ConnectionPool} so they travel as
 * parallel streams), under a shared bandwidth limit. A chunk the repository holds is never
 * compressed or encrypted. Memory is about {@code 2 * buffers * chunk size} at most (plaintext plus
 * the encoded form of chunks being uploaded), independent of the device size.
 * Progress goes to a {@link BackupListener}. A {@link FailureCheck} is asked during the backup and
 * right before the commit: when it reports a failure, nothing is committed. Re-running an
 * interrupted backup uploads only what did not arrive the first time.
 */
public final class BackupWriter {

    /**
     * @param batch              chunks per lack check
     * @param batchesInFlight    batches being lack-checked and uploaded while the next ones are read
     * @param uploadsInFlight    concurrent uploads
     * @param bandwidthLimit     cap on uploaded bytes per second, shared by all uploads
     * @param progressIntervalMillis how often the listener hears of progress
     */
    public record Options(int batch, int batchesInFlight, int uploadsInFlight, BandwidthLimiter bandwidthLimit,
            long progressIntervalMillis) {

        public Options {
            if (batch < 1 || batchesInFlight < 1 || uploadsInFlight < 1 || progressIntervalMillis < 1) {
                throw new IllegalArgumentException("batch, batches and uploads in flight and the progress interval"
                        + " must be positive");
            }
        }

        public static Options defaults(int batch) {
            return new Options(batch, 2, 4, BandwidthLimiter.unlimited(), 2000);
        }
    }

    private final Repository repository;
    private final ChunkCodec codec;
    private final ExecutorService workers;
    private final Options options;
    private final int buffers;

    /** @param workers encodes chunks; its thread count bounds the CPU used */
    public BackupWriter(Repository repository, ChunkCodec codec, ExecutorService workers, Options options,
            int workerThreads) {
        this.repository = repository;
        this.codec = codec;
        this.workers = workers;
        this.options = options;
        this.buffers = Math.max(workerThreads + 2, options.batch() * (options.batchesInFlight() + 1));
    }

    public BackupWriter(Repository repository, ChunkCodec codec, ExecutorService workers, int batch) {
        this(repository, codec, workers, Options.defaults(batch), 2);
    }

    public RestorePointIndex backup(BackupRequest req, FileChannel source) throws IOException {
        return backup(req, ChunkSource.of(source), BackupListener.NONE, FailureCheck.NONE);
    }

    public RestorePointIndex backup(BackupRequest req, ChunkSource source, BackupListener listener,
            FailureCheck failureCheck) throws IOException {
        return new Run(req, source, listener, failureCheck).execute();
    }

    /** The state of one backup. */
    private final class Run {
        private final BackupRequest req;
        private final ChunkSource source;
        private final BackupListener listener;
        private final FailureCheck failureCheck;
        private final String session = "s" + UUID.randomUUID().toString().replace("-", "");
        private final long started = System.currentTimeMillis();
        private final long startedNanos = System.nanoTime();
        private final ChunkId[] ids;
        private final AtomicLong scanned = new AtomicLong();
        private final AtomicLong changed = new AtomicLong();
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong fresh = new AtomicLong();
        private final AtomicLong zero = new AtomicLong();
        private final AtomicLong reused = new AtomicLong();
        private final AtomicReference<IOException> failure = new AtomicReference<>();
        private final BlockingQueue<byte[]> pool;
        private final Semaphore batchSlots = new Semaphore(options.batchesInFlight());
        private long toScan;

        Run(BackupRequest req, ChunkSource source, BackupListener listener, FailureCheck failureCheck) {
            this.req = req;
            this.source = source;
            this.listener = listener;
            this.failureCheck = failureCheck;
            this.ids = new ChunkId[(int) RestorePointIndex.chunkCount(req.device().sizeBytes(), req.chunkSizeBytes())];
            this.pool = new ArrayBlockingQueue<>(buffers);
        }

        private boolean selected(int i) {
            return req.changedChunks().map(c -> c.get(i)).orElse(true);
        }

        private int length(int i) {
            long offset = (long) i * req.chunkSizeBytes();
            return (int) Math.min(req.chunkSizeBytes(), req.device().sizeBytes() - offset);
        }

        RestorePointIndex execute() throws IOException {
            for (int i = 0; i < ids.length; i++) {
                if (selected(i)) {
                    toScan += length(i);
                }
            }
            ExecutorService stages = Executors.newFixedThreadPool(options.batchesInFlight(),
                    named("backup-lack-" + req.pointId()));
            ExecutorService uploads = Executors.newFixedThreadPool(options.uploadsInFlight(),
                    named("backup-upload-" + req.pointId()));
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                    named("backup-progress-" + req.pointId()));
            timer.scheduleAtFixedRate(() -> report(false), options.progressIntervalMillis(),
                    options.progressIntervalMillis(), TimeUnit.MILLISECONDS);
            try {
                readAll(stages, uploads);
            } finally {
                timer.shutdownNow();
                stages.shutdownNow();
                uploads.shutdownNow();
            }
            stopIfFailed();
            RestorePointIndex index = new RestorePointIndex(req.pointId(), req.node(), req.device(),
                    req.chunkSizeBytes(), req.changeId(), req.parent().map(RestorePointIndex::pointId), started,
                    System.currentTimeMillis(), 0, new PointStats(scanned.get(), sent.get(), fresh.get(),
                    zero.get(), reused.get()), List.of(ids));
            // The last word before anything becomes visible: a snapshot that overflowed while we read
            // may have given us garbage, so nothing may be committed.
            stopIfFailed();
            RestorePointIndex committed = commit(index);
            report(true);
            return committed;
        }

        /** Waits for a free buffer, but stops at once when the backup failed meanwhile. */
        private byte[] takeBuffer() throws IOException {
            try {
                byte[] buf;
                while ((buf = pool.poll(200, TimeUnit.MILLISECONDS)) == null) {
                    stopIfFailed();
                }
                return buf;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("backup " + req.pointId() + " was interrupted", e);
            }
        }

        private void stopIfFailed() throws IOException {
            Optional<String> f = failureCheck.failure();
            if (f.isPresent()) {
                throw new BackupAbortedException(req.pointId(), f.get());
            }
            IOException e = failure.get();
            if (e != null) {
                throw e;
            }
        }

        private void readAll(ExecutorService stages, ExecutorService uploads) throws IOException {
            for (int i = 0; i < buffers; i++) {
                pool.add(new byte[req.chunkSizeBytes()]);
            }
            List<Future<?>> dispatched = new ArrayList<>();
            List<Pending> batch = new ArrayList<>();
            for (int i = 0; i < ids.length; i++) {
                if (!selected(i)) {
                    ids[i] = req.parent().orElseThrow().chunks().get(i);
                    reused.incrementAndGet();
                    continue;
                }
                stopIfFailed();
                byte[] buf = takeBuffer();
                int len = length(i);
                try {
                    source.read((long) i * req.chunkSizeBytes(), buf, len);
                } catch (IOException | RuntimeException e) {
                    pool.add(buf);
                    throw e;
                }
                scanned.addAndGet(len);
                // Only the id first: a chunk the repository already holds is never compressed or
                // encrypted, which is most of a full scan's chunks.
                batch.add(new Pending(i, buf, len, workers.submit(() -> {
                    if (ChunkCodec.isAllZero(buf, 0, len)) {
                        pool.add(buf);
                        return ChunkId.ZERO;
                    }
                    return codec.idOf(buf, 0, len);
                })));
                if (batch.size() == options.batch()) {
                    dispatched.add(dispatch(stages, uploads, batch));
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                dispatched.add(dispatch(stages, uploads, batch));
            }
            for (Future<?> f : dispatched) {
                await(f);
            }
        }

        private Future<?> dispatch(ExecutorService stages, ExecutorService uploads, List<Pending> batch)
                throws IOException {
            try {
                batchSlots.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("backup " + req.pointId() + " was interrupted", e);
            }
            return stages.submit(() -> {
                try {
                    finishBatch(uploads, batch);
                } catch (IOException e) {
                    failure.compareAndSet(null, e);
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, new IOException("backup " + req.pointId() + " failed: " + e, e));
                } finally {
                    batchSlots.release();
                }
                return null;
            });
        }

        private void finishBatch(ExecutorService uploads, List<Pending> batch) throws IOException {
            List<Pending> data = new ArrayList<>();
            try {
                for (Pending p : batch) {
                    ChunkId id = await(p.id());
                    ids[p.index()] = id;
                    if (id.isZero()) {
                        zero.incrementAndGet();
                        if (req.parent().isPresent() && differsFromParent(p.index(), id)) {
                            changed.addAndGet(p.length());
                        }
                    } else {
                        data.add(p);
                    }
                }
            } catch (IOException | RuntimeException e) {
                release(batch);
                throw e;
            }
            if (data.isEmpty()) {
                return;
            }
            Set<ChunkId> missing;
            try {
                missing = repository.missingChunks(req.node(), session,
                        data.stream().map(p -> ids[p.index()]).toList());
            } catch (IOException | RuntimeException e) {
                release(data);
                throw e;
            }
            List<Future<Boolean>> puts = new ArrayList<>();
            for (Pending p : data) {
                ChunkId id = ids[p.index()];
                boolean upload = missing.remove(id);
                if (req.parent().isPresent() ? differsFromParent(p.index(), id) : upload) {
                    changed.addAndGet(p.length());
                }
                if (!upload) {
                    pool.add(p.buffer());
                    reused.incrementAndGet();
                    continue;
                }
                Future<EncodedChunk> encoded = workers.submit(() -> {
                    try {
                        return codec.encode(p.buffer(), 0, p.length(), id);
                    } finally {
                        pool.add(p.buffer());
                    }
                });
                puts.add(uploads.submit(() -> {
                    EncodedChunk e = await(encoded);
                    options.bandwidthLimit().acquire(e.stored().length);
                    boolean created = repository.putChunk(req.node(), e.id(), e.stored(), e.stored().length);
                    sent.addAndGet(e.stored().length);
                    fresh.incrementAndGet();
                    return created;
                }));
            }
            IOException first = null;
            for (Future<Boolean> f : puts) {
                try {
                    await(f);
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }

        /** Gives back the buffers of chunks whose ids are known and non-zero (zero ones went back already). */
        private void release(List<Pending> pending) {
            for (Pending p : pending) {
                if (p.id().isDone() && !p.id().isCancelled()) {
                    try {
                        if (!p.id().get().isZero()) {
                            pool.add(p.buffer());
                        }
                    } catch (InterruptedException | ExecutionException e) {
                        // a failed backup; its buffers are garbage with it
                    }
                }
            }
        }

        private boolean differsFromParent(int i, ChunkId id) {
            return req.parent().map(p -> !p.chunks().get(i).equals(id)).orElse(true);
        }

        private RestorePointIndex commit(RestorePointIndex index) throws IOException {
            try {
                repository.commit(index, session);
                return index;
            } catch (RepositoryException e) {
                if (e.reason() != RepositoryException.Reason.ALREADY_EXISTS) {
                    throw e;
                }
                // An earlier attempt committed this point and the connection dropped before we heard so:
                // the same image (same chunks) means the backup is complete.
                RestorePointIndex existing = repository.readPoint(new PointRef(req.node(), req.pointId()));
                if (!existing.chunks().equals(index.chunks()) || !existing.device().equals(req.device())
                        || existing.chunkSizeBytes() != req.chunkSizeBytes()) {
                    throw e;
                }
                return existing;
            }
        }

        private void report(boolean done) {
            double seconds = Math.max(1e-3, (System.nanoTime() - startedNanos) / 1e9);
            long s = scanned.get();
            double rate = s / seconds;
            OptionalLong eta = rate > 0 ? OptionalLong.of((long) Math.ceil((toScan - s) / rate)) : OptionalLong.empty();
            try {
                listener.progress(new BackupProgress(req.device().sizeBytes(), toScan, s, changed.get(), sent.get(),
                        fresh.get(), zero.get(), reused.get(), rate, done ? OptionalLong.of(0) : eta, done));
            } catch (RuntimeException e) {
                // a listener's failure must not fail the backup
            }
        }

        private <T> T await(Future<T> f) throws IOException {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("backup " + req.pointId() + " was interrupted", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException("encoding a chunk failed: " + e.getCause(), e.getCause());
            }
        }
    }

    /** A chunk read and being identified; its buffer is held until it is uploaded or found present. */
    private record Pending(int index, byte[] buffer, int length, Future<ChunkId> id) {
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
