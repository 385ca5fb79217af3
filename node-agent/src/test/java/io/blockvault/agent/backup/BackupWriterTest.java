package io.blockvault.agent.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.agent.testing.TestRepository;
import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.BackupProgress;
import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.BandwidthLimiter;
import io.blockvault.repository.client.ChunkSource;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's pipeline against a local repository: failure check before commit, progress, memory bound. */
class BackupWriterTest {

    static final int CHUNK = 64 << 10;
    static final long SIZE = 64L * CHUNK;

    @TempDir
    Path dir;
    RepositoryStore store;
    ExecutorService workers;

    @BeforeEach
    void open() throws Exception {
        store = new RepositoryStore(new RepositoryLayout(dir), new StoreLimits(Long.MAX_VALUE, 100, 0, 3600_000));
        store.open();
        workers = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void close() {
        workers.shutdownNow();
        store.close();
    }

    static ChunkSource image(long seed, AtomicLong maxOffsetRead) {
        return (offset, dst, length) -> {
            new Random(seed + offset).nextBytes(dst);
            java.util.Arrays.fill(dst, length, dst.length, (byte) 0);
            maxOffsetRead.accumulateAndGet(offset + length, Math::max);
        };
    }

    BackupRequest request(String point) {
        return new BackupRequest("node-a", point, new DeviceIdentity("/dev/test", SIZE), CHUNK, ChangeId.NONE,
                Optional.empty(), Optional.empty());
    }

    @Test
    void aFailureReportedAfterTheLastUploadStillPreventsTheCommit() throws Exception {
        AtomicLong read = new AtomicLong();
        AtomicBoolean overflowed = new AtomicBoolean();
        List<BackupProgress> progress = new CopyOnWriteArrayList<>();
        BackupWriter w = new BackupWriter(store, TestRepository.codec(), workers, BackupWriter.Options.defaults(4), 2);
        assertThatThrownBy(() -> w.backup(request("p1"), image(1, read), progress::add, () -> {
            // the snapshot overflows the moment the whole image has been read
            if (read.get() == SIZE) {
                overflowed.set(true);
            }
            return overflowed.get() ? Optional.of("DiffStorageOverflow: test") : Optional.empty();
        })).isInstanceOf(BackupAbortedException.class).hasMessageContaining("DiffStorageOverflow: test");
        assertThat(store.listPoints(Optional.of("node-a"))).isEmpty();

        BackupWriter.Options fast = new BackupWriter.Options(4, 2, 3, BandwidthLimiter.unlimited(), 1);
        var idx = new BackupWriter(store, TestRepository.codec(), workers, fast, 2).backup(request("p2"),
                image(1, read), progress::add, Optional::empty);
        assertThat(store.listPoints(Optional.of("node-a"))).hasSize(1);
        assertThat(idx.stats().scannedBytes()).isEqualTo(SIZE);
        assertThat(progress).last().satisfies(p -> {
            assertThat(p.done()).isTrue();
            assertThat(p.percent()).isEqualTo(100.0);
            assertThat(p.sentBytes()).isEqualTo(idx.stats().sentBytes());
        });
    }

    @Test
    void bandwidthLimiterHoldsTheRateAfterTheBurst() throws Exception {
        BandwidthLimiter limiter = new BandwidthLimiter(10L << 20);
        long t0 = System.nanoTime();
        for (int i = 0; i < 30; i++) {
            limiter.acquire(1 << 20);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        // 30 MiB at 10 MiB/s with one second of burst: at least 2 s
        assertThat(seconds).isGreaterThanOrEqualTo(1.9);
        assertThat(BandwidthLimiter.unlimited().limited()).isFalse();
    }
}
