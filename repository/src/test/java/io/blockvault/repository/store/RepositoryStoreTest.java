package io.blockvault.repository.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryStoreTest {

    @TempDir
    Path dir;
    RepositoryStore store;
    ChunkCodec codec = TestData.codec(true);

    @BeforeEach
    void open() throws Exception {
        store = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")), new StoreLimits(Long.MAX_VALUE, 1000, 0,
                3600_000));
        store.open();
    }

    private static byte[] restore(RepositoryStore repo, ChunkCodec codec, PointRef ref, Path target) throws Exception {
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            new RestoreReader(repo, codec, 8).restore(ref, ch, false);
        }
        return Files.readAllBytes(target);
    }

    @Test
    void backupRestoreAndDeduplication() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 21, TestData.CHUNK, 1, 1000);
        RestorePointIndex first = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        assertThat(first.stats().zeroChunks()).isEqualTo(5);
        assertThat(first.stats().newChunks()).isEqualTo(16);
        assertThat(restore(store, codec, new PointRef("node-a", "p1"), dir.resolve("r1"))).isEqualTo(Files.readAllBytes(image));

        RestorePointIndex again = TestData.backup(store, codec, "node-a", "p2", image, Optional.empty(), Optional.empty());
        assertThat(again.stats().newChunks()).isZero();
        assertThat(again.stats().sentBytes()).isZero();

        TestData.change(image, 2, TestData.CHUNK, 77);
        BitSet changed = new BitSet();
        changed.set(2);
        RestorePointIndex incr = TestData.backup(store, codec, "node-a", "p3", image, Optional.of(again),
                Optional.of(changed));
        assertThat(incr.stats().newChunks()).isEqualTo(1);
        assertThat(incr.stats().scannedBytes()).isEqualTo(TestData.CHUNK);
        assertThat(restore(store, codec, new PointRef("node-a", "p3"), dir.resolve("r3"))).isEqualTo(Files.readAllBytes(image));
        assertThat(store.listPoints(Optional.of("node-a"))).extracting(p -> p.ref().pointId())
                .containsExactlyInAnyOrder("p1", "p2", "p3");
        assertThat(store.listPoints(Optional.of("node-b"))).isEmpty();
    }

    @Test
    void aRunningBackupsLeaseOutlivesAWallClockSetAheadButAnEarlierProcesssDoesNot() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 4, TestData.CHUNK, 3, 0);
        RestorePointIndex p1 = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        ChunkId id = p1.chunks().get(0);
        // a backup in progress is told that this chunk exists: the lease is what keeps GC off it
        assertThat(store.missingChunks("node-a", "s-running", List.of(id))).isEmpty();
        Path lease;
        try (var s = Files.list(dir.resolve("repo/incoming/leases/node-a"))) {
            lease = s.filter(p -> p.getFileName().toString().startsWith("s-running-")).findFirst().orElseThrow();
        }
        // the wall clock jumps two TTLs ahead: to the store, the file's mtime now says it is that old
        Files.setLastModifiedTime(lease, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
                - 2 * 3600_000));
        TestData.change(image, 1, TestData.CHUNK, 31);
        TestData.backup(store, codec, "node-a", "p2", image, Optional.empty(), Optional.empty()); // recounts leases
        assertThat(lease).as("a lease this process wrote a moment ago, by its monotonic clock").exists();
        // a lease left by an earlier process is judged by its mtime, as before
        RepositoryStore restarted = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")), new StoreLimits(
                Long.MAX_VALUE, 1000, 0, 3600_000));
        restarted.open();
        assertThat(lease).doesNotExist();
    }

    @Test
    void commitRefusesMissingChunksAndReplacements() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 4, TestData.CHUNK, 2, 0);
        RestorePointIndex idx = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        List<ChunkId> ids = new ArrayList<>(idx.chunks());
        byte[] fake = new byte[32];
        fake[0] = 1;
        ids.set(0, ChunkId.of(fake));
        RestorePointIndex broken = new RestorePointIndex("p2", "node-a", idx.device(), idx.chunkSizeBytes(),
                ChangeId.NONE, Optional.empty(), 0, 0, 0, PointStats.EMPTY, ids);
        assertThatThrownBy(() -> store.commit(broken, "s1")).isInstanceOf(RepositoryException.class)
                .hasMessageContaining("lacks").extracting(e -> ((RepositoryException) e).reason())
                .isEqualTo(RepositoryException.Reason.MISSING_CHUNKS);
        store.commit(idx, "s2"); // identical again: no-op
        RestorePointIndex different = new RestorePointIndex("p1", "node-a", idx.device(), idx.chunkSizeBytes(),
                ChangeId.NONE, Optional.empty(), 0, 0, 0, PointStats.EMPTY, idx.chunks());
        assertThatThrownBy(() -> store.commit(different, "s3")).hasMessageContaining("never replaced");
    }

    /**
     * A commit releases its own session's leases, not those of a session whose id merely starts with
     * its id and a dash: session "s1" used to release "s1-x-*.lease" (the glob "s1-*.lease"), so
     * chunks another backup of the node had been told exist lost their protection from GC.
     */
    @Test
    void aCommitReleasesOnlyItsOwnSessionsLeases() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 4, TestData.CHUNK, 3, 0);
        RestorePointIndex idx = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        ChunkId stored = idx.chunks().get(0);
        assertThat(store.missingChunks("node-a", "s1", List.of(stored))).isEmpty();
        assertThat(store.missingChunks("node-a", "s1-x", List.of(stored))).isEmpty();
        Path leases = store.layout().leases().resolve("node-a");
        assertThat(leaseNames(leases)).hasSize(2);
        store.commit(new RestorePointIndex("p2", "node-a", idx.device(), idx.chunkSizeBytes(), ChangeId.NONE,
                Optional.empty(), 0, 0, 0, PointStats.EMPTY, idx.chunks()), "s1");
        assertThat(leaseNames(leases)).singleElement().asString().startsWith("s1-x-");
        assertThat(store.nodeUsage("node-a").leaseFiles()).isEqualTo(1);
    }

    private static List<String> leaseNames(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** Found by the protocol fuzzer's reading: a damaged index made a listing answer INTERNAL. */
    @Test
    void aDamagedIndexMakesTheListingSayDamagedNamingThePoint() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 4, TestData.CHUNK, 9, 0);
        TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        Path index = new RepositoryLayout(dir.resolve("repo")).incomingPoint("node-a", "p1");
        try (RandomAccessFile raf = new RandomAccessFile(index.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            int b = raf.read();
            raf.seek(raf.length() / 2);
            raf.write(b ^ 0x01);
        }
        // a fresh store: the first one cached the point's summary when it was committed or listed
        RepositoryStore reopened = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")),
                new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        reopened.open();
        assertThatThrownBy(() -> reopened.listPoints(Optional.of("node-a"))).isInstanceOf(RepositoryException.class)
                .satisfies(e -> assertThat(((RepositoryException) e).reason()).isEqualTo(RepositoryException.Reason.DAMAGED))
                .hasMessageContaining("node-a/p1").hasMessageContaining("verify");
    }

    @Test
    void verifyAndRestoreDetectAFlippedByte() throws Exception {
        Path image = TestData.image(dir.resolve("dev.img"), 6, TestData.CHUNK, 3, 0);
        RestorePointIndex a = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        TestData.backup(store, codec, "node-a", "p2", image, Optional.empty(), Optional.empty());
        TestData.change(image, 0, TestData.CHUNK, 5);
        TestData.backup(store, codec, "node-a", "p3", image, Optional.empty(), Optional.empty());
        ChunkId victim = a.chunks().get(1);
        Path file = store.chunkFile(victim).orElseThrow();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            int b = raf.read();
            raf.seek(raf.length() / 2);
            raf.write(b ^ 0x10);
        }
        List<PointRef> all = List.of(new PointRef("node-a", "p1"), new PointRef("node-a", "p2"),
                new PointRef("node-a", "p3"));
        VerifyReport report = store.verify(all);
        assertThat(report.healthy()).isFalse();
        assertThat(report.damaged()).singleElement().satisfies(d -> {
            assertThat(d.id()).isEqualTo(victim);
            assertThat(d.points()).containsExactlyElementsOf(all);
        });
        assertThat(report.brokenPoints()).containsExactlyElementsOf(all);
        assertThatThrownBy(() -> restore(store, codec, new PointRef("node-a", "p1"), dir.resolve("r")))
                .isInstanceOf(RepositoryException.class).hasMessageContaining(victim.hex());
    }

    @Test
    void openRemovesTempFilesAndQuotaIsEnforced() throws Exception {
        Files.writeString(store.layout().incomingTmp().resolve("x.tmp"), "left by a crash");
        store.open();
        assertThat(store.layout().incomingTmp()).isEmptyDirectory();
        RepositoryStore small = new RepositoryStore(store.layout(), new StoreLimits(100_000, 10, 0, 1000));
        Path image = TestData.image(dir.resolve("dev.img"), 8, TestData.CHUNK, 4, 0);
        assertThatThrownBy(() -> TestData.backup(small, codec, "node-q", "p1", image, Optional.empty(), Optional.empty()))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("quota");
    }
}
