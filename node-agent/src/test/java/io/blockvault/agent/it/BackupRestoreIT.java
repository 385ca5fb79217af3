package io.blockvault.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.agent.backup.BackupEngine;
import io.blockvault.agent.backup.BackupResult;
import io.blockvault.agent.backup.BackupSettings;
import io.blockvault.agent.keys.KeyDirectory;
import io.blockvault.agent.restore.RestoreEngine;
import io.blockvault.agent.restore.RestoreResult;
import io.blockvault.agent.restore.RestoreSettings;
import io.blockvault.agent.snapshot.NoSnapProvider;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.testing.FakeCbtProvider;
import io.blockvault.agent.testing.Host;
import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.agent.testing.TestRepository;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.BackupProgress;
import io.blockvault.repository.client.ChunkSource;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup and restore engines on loop devices against a real transport server (TLS, file
 * tokens) on 127.0.0.1: full, incremental, CBT and generation-change paths, interrupted and failed
 * backups, restore to another device byte for byte.
 */
class BackupRestoreIT {

    static final int CHUNK = 1 << 20;
    static final long SIZE = 48L * CHUNK;

    @TempDir
    Path dir;
    TestRepository repo;
    ConnectionPool pool;
    final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Host.requireRoot();
        repo = TestRepository.start(dir);
        pool = repo.pool(4);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception e) {
                // keep cleaning
            }
        }
        pool.close();
        repo.close();
    }

    LoopDevice loop(String name) throws Exception {
        LoopDevice d = LoopDevice.create(dir.resolve(name), SIZE);
        cleanup.add(d);
        return d;
    }

    /** Chunk i: zero when i % 4 == 3, else seeded random. */
    static void fill(LoopDevice d, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] all = new byte[(int) SIZE];
        for (int i = 0; i < SIZE / CHUNK; i++) {
            if (i % 4 != 3) {
                byte[] c = new byte[CHUNK];
                r.nextBytes(c);
                System.arraycopy(c, 0, all, i * CHUNK, CHUNK);
            }
        }
        d.write(0, all);
    }

    static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    BackupSettings settings(LoopDevice d, boolean full) {
        return new BackupSettings(TestRepository.NODE, d.device(), full, dir, 64L << 20, 2, 4, 0, CHUNK, true, false,
                Optional.empty());
    }

    BackupResult backup(Repository r, SnapshotProvider p, LoopDevice d, List<BackupProgress> progress)
            throws IOException {
        return new BackupEngine(r, TestRepository.codec(), p, Clock.systemUTC()).backup(settings(d, false),
                progress::add);
    }

    RestoreResult restore(String pointId, Path target, boolean force) throws IOException {
        return new RestoreEngine(pool, TestRepository.codec(), device -> Optional.empty()).restore(
                new PointRef(TestRepository.NODE, pointId), new RestoreSettings(target, force, false, 4, true),
                RestoreListener.NONE);
    }

    @Test
    void nosnapFullIncrementalAndRestoreToAnotherDevice() throws Exception {
        LoopDevice source = loop("source.img");
        fill(source, 1);
        byte[] first = source.readDevice();
        List<BackupProgress> progress = new CopyOnWriteArrayList<>();
        BackupResult full = backup(pool, new NoSnapProvider(), source, progress);
        int dataChunks = (int) (SIZE / CHUNK) * 3 / 4;
        assertThat(full.mode()).isEqualTo(BackupMode.NoSnap);
        assertThat(full.crashConsistent()).isFalse();
        assertThat(full.directIo()).isTrue();
        assertThat(full.stats().newChunks()).isEqualTo(dataChunks);
        assertThat(full.stats().zeroChunks()).isEqualTo(SIZE / CHUNK - dataChunks);
        assertThat(full.stats().sentBytes()).isGreaterThan((long) dataChunks * CHUNK);
        assertThat(progress).isNotEmpty().last().satisfies(p -> {
            assertThat(p.done()).isTrue();
            assertThat(p.scannedBytes()).isEqualTo(SIZE);
            assertThat(p.sentBytes()).isEqualTo(full.stats().sentBytes());
        });

        // change 3 chunks (one of them a zero chunk), part of a chunk each
        int[] changed = {0, 7, 20};
        for (int c : changed) {
            source.write((long) c * CHUNK + 4096, random(8192, c));
        }
        BackupResult incr = backup(pool, new NoSnapProvider(), source, new ArrayList<>());
        assertThat(incr.parentPointId()).contains(full.pointId());
        assertThat(incr.stats().scannedBytes()).isEqualTo(SIZE);
        assertThat(incr.stats().newChunks()).isEqualTo(changed.length);
        assertThat(incr.stats().sentBytes()).isLessThanOrEqualTo((long) changed.length * (CHUNK + 4096));
        assertThat(incr.stats().zeroChunks()).isEqualTo(SIZE / CHUNK - dataChunks - 1);

        // restore each point to another loop device, and the first also to a fresh sparse file
        LoopDevice target = loop("target.img");
        target.write(0, random((int) SIZE, 99));
        RestoreResult r = restore(incr.pointId(), target.device(), false);
        assertThat(r.writtenBytes()).isEqualTo(SIZE);
        assertThat(target.readDevice()).isEqualTo(source.readDevice());
        restore(full.pointId(), target.device(), false);
        assertThat(target.readDevice()).isEqualTo(first);
        Path file = dir.resolve("restored.img");
        RestoreResult toFile = restore(full.pointId(), file, false);
        assertThat(toFile.writtenBytes()).isEqualTo((long) dataChunks * CHUNK);
        assertThat(Files.readAllBytes(file)).isEqualTo(first);
    }

    /**
     * The operator rotates the encryption key (key-2 becomes current): new chunks are written under
     * key-2, the point written under key-1 and the incremental that mixes both restore with the
     * rotated key directory; a directory without key-1 is refused naming the key id.
     */
    @Test
    void restoreAfterKeyRotationReadsChunksOfEveryKey() throws Exception {
        ChunkCodec before = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("k1"), "key-1",
                1)));
        ChunkCodec rotated = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("k2"), "key-2",
                1, 2)));
        ChunkCodec onlyKey2 = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("k3"),
                "key-2", 2)));
        LoopDevice source = loop("rotate.img");
        fill(source, 5);
        byte[] first = source.readDevice();
        BackupResult underKey1 = new BackupEngine(pool, before, new NoSnapProvider(), Clock.systemUTC())
                .backup(settings(source, false), p -> { });
        source.write(9L * CHUNK, random(8192, 9));
        BackupResult underKey2 = new BackupEngine(pool, rotated, new NoSnapProvider(), Clock.systemUTC())
                .backup(settings(source, false), p -> { });
        assertThat(underKey2.stats().newChunks()).isEqualTo(1);

        LoopDevice target = loop("rotate-target.img");
        restoreWith(rotated, underKey1.pointId(), target.device());
        assertThat(target.readDevice()).isEqualTo(first);
        restoreWith(rotated, underKey2.pointId(), target.device());
        assertThat(target.readDevice()).isEqualTo(source.readDevice());
        assertThatThrownBy(() -> restoreWith(onlyKey2, underKey1.pointId(), target.device()))
                .hasMessageContaining("key id 1");
        // ...and the new chunk really is under key-2: the old directory cannot read the second point.
        assertThatThrownBy(() -> restoreWith(before, underKey2.pointId(), target.device()))
                .hasMessageContaining("key id 2");
    }

    void restoreWith(ChunkCodec codec, String pointId, Path target) throws IOException {
        new RestoreEngine(pool, codec, device -> Optional.empty()).restore(new PointRef(TestRepository.NODE, pointId),
                new RestoreSettings(target, false, false, 4, true), RestoreListener.NONE);
    }

    @Test
    void cbtReadsOnlyChangedChunksAndGenerationChangeFallsBackToFullScan() throws Exception {
        LoopDevice source = loop("cbt.img");
        fill(source, 2);
        FakeCbtProvider cbt = new FakeCbtProvider(SIZE);
        cbt.markAll();
        BackupResult full = backup(pool, cbt, source, new ArrayList<>());
        assertThat(full.mode()).isEqualTo(BackupMode.FullScan);
        assertThat(full.stats().scannedBytes()).isEqualTo(SIZE);

        int[] changed = {1, 2, 30};
        for (int c : changed) {
            long off = (long) c * CHUNK + 65536;
            source.write(off, random(4096, c + 100));
            cbt.mark(off, 4096);
        }
        BackupResult incr = backup(pool, cbt, source, new ArrayList<>());
        assertThat(incr.mode()).isEqualTo(BackupMode.Cbt);
        assertThat(incr.stats().scannedBytes()).isEqualTo((long) changed.length * CHUNK);
        assertThat(incr.stats().newChunks()).isEqualTo(changed.length);
        assertThat(incr.changedChunks()).isEqualTo(changed.length);

        // every restore point is complete: the CBT incremental restores to the whole device
        LoopDevice target = loop("cbt-target.img");
        restore(incr.pointId(), target.device(), false);
        assertThat(target.readDevice()).isEqualTo(source.readDevice());

        // reboot: a new generation; everything is read again, only the changed chunks are sent
        int[] after = {5, 40};
        for (int c : after) {
            source.write((long) c * CHUNK, random(4096, c + 200));
        }
        cbt.restartTracking();
        BackupResult rescan = backup(pool, cbt, source, new ArrayList<>());
        assertThat(rescan.mode()).isEqualTo(BackupMode.FullScan);
        assertThat(rescan.modeReason()).contains("restarted");
        assertThat(rescan.stats().scannedBytes()).isEqualTo(SIZE);
        assertThat(rescan.stats().newChunks()).isEqualTo(after.length);
        restore(rescan.pointId(), target.device(), false);
        assertThat(target.readDevice()).isEqualTo(source.readDevice());
    }

    @Test
    void interruptedBackupCommitsNothingAndTheNextRunSendsOnlyTheRest() throws Exception {
        LoopDevice source = loop("int.img");
        fill(source, 3);
        AtomicInteger puts = new AtomicInteger();
        Repository dropping = new ForwardingRepository(pool) {
            @Override
            public boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException {
                if (puts.incrementAndGet() > 10) {
                    throw new IOException("connection reset (simulated)");
                }
                return super.putChunk(node, id, stored, length);
            }
        };
        assertThatThrownBy(() -> backup(dropping, new NoSnapProvider(), source, new ArrayList<>()))
                .isInstanceOf(IOException.class).hasMessageContaining("connection reset");
        assertThat(pool.listPoints(Optional.of(TestRepository.NODE))).isEmpty();

        BackupResult next = backup(pool, new NoSnapProvider(), source, new ArrayList<>());
        int dataChunks = (int) (SIZE / CHUNK) * 3 / 4;
        assertThat(next.stats().newChunks()).isEqualTo(dataChunks - 10);
        assertThat(next.stats().reusedChunks()).isEqualTo(10);
        assertThat(pool.listPoints(Optional.of(TestRepository.NODE))).extracting(p -> p.ref().pointId())
                .containsExactly(next.pointId());
    }

    @Test
    void snapshotFailureCommitsNothing() throws Exception {
        LoopDevice source = loop("fail.img");
        fill(source, 4);
        FakeCbtProvider cbt = new FakeCbtProvider(SIZE);
        cbt.markAll();
        // the snapshot overflows after the device was read, before the commit
        AtomicInteger asked = new AtomicInteger();
        int chunks = (int) (SIZE / CHUNK);
        cbt.failWith(() -> asked.incrementAndGet() > chunks
                ? Optional.of("DiffStorageOverflow: the difference storage reached its limit")
                : Optional.empty());
        assertThatThrownBy(() -> backup(pool, cbt, source, new ArrayList<>()))
                .isInstanceOf(BackupAbortedException.class).hasMessageContaining("nothing was committed")
                .hasMessageContaining("DiffStorageOverflow");
        assertThat(pool.listPoints(Optional.of(TestRepository.NODE))).isEmpty();
        cbt.failWith(Optional::empty);
        BackupResult ok = backup(pool, cbt, source, new ArrayList<>());
        assertThat(pool.listPoints(Optional.of(TestRepository.NODE))).extracting(PointSummary::ref)
                .containsExactly(new PointRef(TestRepository.NODE, ok.pointId()));
    }

    @Test
    void restoreRefusesAMountedDeviceUnlessForced() throws Exception {
        LoopDevice source = loop("m-src.img");
        fill(source, 5);
        BackupResult full = backup(pool, new NoSnapProvider(), source, new ArrayList<>());
        LoopDevice target = loop("m-dst.img");
        Host.ok(dir, "mkfs.ext4", "-q", target.device().toString());
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Host.ok(dir, "mount", target.device().toString(), mnt.toString());
        try {
            assertThatThrownBy(() -> restore(full.pointId(), target.device(), false))
                    .hasMessageContaining("is mounted at " + mnt).hasMessageContaining("--force");
        } finally {
            Host.ok(dir, "umount", mnt.toString());
        }
        restore(full.pointId(), target.device(), false);
        assertThat(target.readDevice()).isEqualTo(source.readDevice());
    }

    @Test
    void bandwidthLimitIsHonoured() throws Exception {
        LoopDevice source = loop("bw.img");
        fill(source, 6);
        long limit = 8L << 20;
        BackupSettings s = new BackupSettings(TestRepository.NODE, source.device(), false, dir, 64L << 20, 2, 4, limit,
                CHUNK, true, false, Optional.empty());
        long t0 = System.nanoTime();
        BackupResult r = new BackupEngine(pool, TestRepository.codec(), new NoSnapProvider(), Clock.systemUTC())
                .backup(s, p -> { });
        double seconds = (System.nanoTime() - t0) / 1e9;
        // the limiter lets one second of budget through at once, then holds the rate
        double floor = (double) r.stats().sentBytes() / limit - 1.0;
        assertThat(seconds).isGreaterThanOrEqualTo(floor * 0.95);
        assertThat(floor).isGreaterThan(2.0);
    }

    /** A repository that passes every call on; tests override what they break. */
    static class ForwardingRepository implements Repository {
        private final Repository d;

        ForwardingRepository(Repository d) {
            this.d = d;
        }

        @Override
        public Set<ChunkId> missingChunks(String node, String sessionId, List<ChunkId> ids) throws IOException {
            return d.missingChunks(node, sessionId, ids);
        }

        @Override
        public boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException {
            return d.putChunk(node, id, stored, length);
        }

        @Override
        public void commit(RestorePointIndex index, String sessionId) throws IOException {
            d.commit(index, sessionId);
        }

        @Override
        public List<PointSummary> listPoints(Optional<String> node) throws IOException {
            return d.listPoints(node);
        }

        @Override
        public RestorePointIndex readPoint(PointRef point) throws IOException {
            return d.readPoint(point);
        }

        @Override
        public void readChunks(PointRef point, int from, int count, ChunkConsumer consumer) throws IOException {
            d.readChunks(point, from, count, consumer);
        }

        @Override
        public java.time.Instant requestDelete(PointRef point) throws IOException {
            return d.requestDelete(point);
        }

        @Override
        public io.blockvault.repository.client.VerifyReport verify(List<PointRef> points) throws IOException {
            return d.verify(points);
        }

        @Override
        public void close() {
            // the test closes the delegate
        }
    }

    static ChunkSource unused() {
        return (o, d, l) -> { };
    }
}
