package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client side of a restore: splits the restore point into windows of chunks and fetches
 * {@code fetchesInFlight} windows at once (each one a stream on its own connection when the
 * repository is a {@link ConnectionPool}); every chunk is decoded (checksum, authentication tag and
 * id checked) before it is written at its offset. A chunk that fails any check stops the restore
 * with {@link RepositoryException.Reason#DAMAGED}: damaged data is never written as good. Zero
 * chunks are handed to the sink as zero ranges (or skipped on a target known to be zeroed).
 * Memory: one chunk (plus one frame) per fetch in flight.
 */
public final class RestoreReader {

    private final Repository repository;
    private final ChunkCodec codec;
    private final int window;
    private final int fetchesInFlight;
    private final long progressIntervalMillis;

    public RestoreReader(Repository repository, ChunkCodec codec, int window, int fetchesInFlight,
            long progressIntervalMillis) {
        if (window < 1 || fetchesInFlight < 1 || progressIntervalMillis < 1) {
            throw new IllegalArgumentException("window, fetches in flight and progress interval must be positive");
        }
        this.repository = repository;
        this.codec = codec;
        this.window = window;
        this.fetchesInFlight = fetchesInFlight;
        this.progressIntervalMillis = progressIntervalMillis;
    }

    public RestoreReader(Repository repository, ChunkCodec codec, int window) {
        this(repository, codec, window, 1, 2000);
    }

    /** Restores into {@code target}; with {@code targetIsZeroed} zero chunks are skipped, else written. */
    public RestorePointIndex restore(PointRef point, FileChannel target, boolean targetIsZeroed) throws IOException {
        RestorePointIndex idx = repository.readPoint(point);
        restore(idx, ChunkSink.of(target), Optional.empty(), targetIsZeroed, RestoreListener.NONE);
        return idx;
    }

    /**
     * Restores the chunks of {@code idx} selected by {@code only} (all when empty) into {@code sink}.
     * Returns the plaintext bytes written.
     */
    public long restore(RestorePointIndex idx, ChunkSink sink, Optional<BitSet> only, boolean targetIsZeroed,
            RestoreListener listener) throws IOException {
        PointRef point = new PointRef(idx.node(), idx.pointId());
        int n = idx.chunks().size();
        long total = 0;
        List<int[]> windows = new ArrayList<>();
        int runStart = -1;
        for (int i = 0; i <= n; i++) {
            boolean sel = i < n && selected(only, i);
            boolean data = sel && !idx.chunks().get(i).isZero();
            if (sel && (!idx.chunks().get(i).isZero() || !targetIsZeroed)) {
                total += idx.chunkLength(i);
            }
            if (data && runStart < 0) {
                runStart = i;
            }
            if ((!data || i - runStart == window) && runStart >= 0) {
                windows.add(new int[] {runStart, i - runStart});
                runStart = data ? i : -1;
            }
        }
        long toRestore = total;
        AtomicLong restored = new AtomicLong();
        AtomicLong fetched = new AtomicLong();
        long startedNanos = System.nanoTime();
        Runnable report = () -> {
            double seconds = Math.max(1e-3, (System.nanoTime() - startedNanos) / 1e9);
            double rate = restored.get() / seconds;
            boolean done = restored.get() >= toRestore;
            try {
                listener.progress(new RestoreProgress(toRestore, restored.get(), fetched.get(), rate,
                        rate > 0 ? OptionalLong.of((long) Math.ceil((toRestore - restored.get()) / rate))
                                : OptionalLong.empty(), done));
            } catch (RuntimeException e) {
                // a listener's failure must not fail the restore
            }
        };
        ExecutorService fetchers = Executors.newFixedThreadPool(fetchesInFlight, r -> {
            Thread t = new Thread(r, "restore-fetch-" + idx.pointId());
            t.setDaemon(true);
            return t;
        });
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "restore-progress-" + idx.pointId());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(report, progressIntervalMillis, progressIntervalMillis, TimeUnit.MILLISECONDS);
        // Fetch threads are never interrupted: an interrupt during a FileChannel write closes the
        // target's channel. After a failure the others stop at their next chunk.
        AtomicBoolean failed = new AtomicBoolean();
        AtomicReference<IOException> cause = new AtomicReference<>();
        try {
            List<Future<?>> futures = new ArrayList<>();
            if (!targetIsZeroed) {
                futures.add(fetchers.submit(() -> {
                    for (int i = 0; i < n; i++) {
                        if (idx.chunks().get(i).isZero() && selected(only, i)) {
                            sink.zero((long) i * idx.chunkSizeBytes(), idx.chunkLength(i));
                            restored.addAndGet(idx.chunkLength(i));
                        }
                    }
                    return null;
                }));
            }
            for (int[] w : windows) {
                futures.add(fetchers.submit(() -> {
                    if (failed.get()) {
                        return null;
                    }
                    repository.readChunks(point, w[0], w[1], (i, id, stored, length) -> {
                        if (failed.get()) {
                            throw new IOException("restore of " + point + " stopped: another fetch failed");
                        }
                        try {
                            verifyAndWrite(idx, point, sink, i, id, stored, length, fetched, restored);
                        } catch (IOException | RuntimeException e) {
                            if (failed.compareAndSet(false, true)) {
                                cause.set(e instanceof IOException io ? io
                                        : new IOException("restore of " + point + " failed: " + e, e));
                            }
                            throw e;
                        }
                    });
                    return null;
                }));
            }
            IOException first = null;
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("restore of " + point + " was interrupted", e);
                } catch (ExecutionException e) {
                    failed.set(true);
                    if (first == null) {
                        first = e.getCause() instanceof IOException io ? io
                                : new IOException("restore of " + point + " failed: " + e.getCause(), e.getCause());
                    }
                }
            }
            if (first != null) {
                throw cause.get() != null ? cause.get() : first;
            }
            sink.finish();
        } finally {
            timer.shutdownNow();
            fetchers.shutdown();
        }
        report.run();
        return restored.get();
    }

    private void verifyAndWrite(RestorePointIndex idx, PointRef point, ChunkSink sink, int i, ChunkId id, byte[] stored,
            int length, AtomicLong fetched, AtomicLong restored) throws IOException {
        ChunkId expected = idx.chunks().get(i);
        if (!expected.equals(id)) {
            throw new RepositoryException(RepositoryException.Reason.PROTOCOL, "the repository sent chunk " + id
                    + " for position " + i + " of " + point + ", which needs " + expected);
        }
        byte[] plain;
        try {
            plain = codec.decode(id, stored, length);
        } catch (FormatException e) {
            throw new RepositoryException(RepositoryException.Reason.DAMAGED, "restore of " + point
                    + " stopped at chunk " + i + ": " + e.getMessage(), e);
        }
        if (plain.length != idx.chunkLength(i)) {
            throw new RepositoryException(RepositoryException.Reason.DAMAGED, "chunk " + i + " of " + point + " has "
                    + plain.length + " bytes, expected " + idx.chunkLength(i));
        }
        fetched.addAndGet(length);
        sink.write((long) i * idx.chunkSizeBytes(), plain, plain.length);
        restored.addAndGet(plain.length);
    }

    private static boolean selected(Optional<BitSet> only, int i) {
        return only.isEmpty() || only.get().get(i);
    }
}
