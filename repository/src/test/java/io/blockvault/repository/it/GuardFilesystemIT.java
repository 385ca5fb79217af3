package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.FakeClockSources;
import io.blockvault.repository.TestData;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkHeader;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.guard.CycleReport;
import io.blockvault.repository.guard.Guard;
import io.blockvault.repository.guard.GuardConfig;
import io.blockvault.repository.guard.TrustedClock;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The guard in-process on real ext4 and XFS filesystems (loop devices), as root. */
class GuardFilesystemIT {

    LoopFilesystem fs;
    RepositoryLayout layout;
    RepositoryStore store;
    Linux linux = new Linux();
    FakeClockSources sources = new FakeClockSources();
    TrustedClock clock;
    Guard guard;
    ChunkCodec codec = TestData.codec(true);
    System.Logger log = System.getLogger("guard-it");

    void setUp(String type) throws Exception {
        fs = LoopFilesystem.create(type, 512L << 20);
        Host.ensureTransportUser();
        layout = new RepositoryLayout(fs.mount().resolve("repo"));
        Files.createDirectories(layout.root());
        store = new RepositoryStore(layout, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        store.open();
        Files.createDirectories(layout.guardState());
        clock = new TrustedClock(layout.guardState().resolve("clock.properties"), sources, log);
        clock.start(config(0));
        guard = new Guard(layout, linux, clock, log);
        guard.prepare();
    }

    GuardConfig config(long advanceSeconds) {
        return new GuardConfig(layout.root(), 1, advanceSeconds, 1000, 0, 0, 86400, 60, 3600, 86400);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fs != null) {
            fs.close();
        }
    }

    private Path image(String name, int chunks, long seed) throws IOException {
        return TestData.image(fs.mount().resolve(name), chunks, TestData.CHUNK, seed, 0);
    }

    private static boolean lsattrImmutable(Path file) throws Exception {
        String out = Host.ok("lsattr", file.toString()).trim();
        return out.split("\\s+")[0].contains("i");
    }

    private byte[] restore(PointRef ref) throws Exception {
        Path out = fs.mount().resolve("restore.out");
        Files.deleteIfExists(out);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            new RestoreReader(store, codec, 4).restore(ref, ch, false);
        }
        return Files.readAllBytes(out);
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs"})
    void sealedFilesAreImmutableAndTamperProof(String type) throws Exception {
        setUp(type);
        Path img = image("dev.img", 10, 1);
        RestorePointIndex idx = TestData.backup(store, codec, "node-a", "p1", img, Optional.empty(), Optional.empty());
        CycleReport r = guard.cycle(config(0));
        assertThat(r.pointsSealed()).isEqualTo(1);
        assertThat(r.chunksSealed()).isEqualTo((int) idx.stats().newChunks());
        assertThat(r.reflinked()).as("FICLONE on %s", type).isEqualTo(type.equals("xfs"));
        assertThat(files(layout.incomingChunks())).isEmpty();
        assertThat(files(layout.incomingPoints())).isEmpty();

        Path point = layout.storePoint("node-a", "p1");
        Path chunk = layout.storeChunk(idx.chunks().get(0));
        byte[] before = Files.readAllBytes(chunk);
        for (Path f : List.of(point, chunk)) {
            assertThat(lsattrImmutable(f)).as("lsattr %s", f).isTrue();
            String p = f.toString();
            for (List<String> op : List.of(List.of("rm", "-f", p), List.of("sh", "-c", "echo x >> " + p),
                    List.of("mv", p, p + ".moved"), List.of("truncate", "-s", "0", p))) {
                Host.Result asUser = Host.run(Host.asTransportUser(op.toArray(String[]::new)));
                assertThat(asUser.exit()).as("%s as the transport user", op).isNotZero();
                Host.Result asRoot = Host.run(Host.asRootWithoutImmutable(op.toArray(String[]::new)));
                assertThat(asRoot.exit()).as("%s as root without CAP_LINUX_IMMUTABLE", op).isNotZero();
                assertThat(asRoot.output()).as("%s as root without CAP_LINUX_IMMUTABLE", op)
                        .contains("Operation not permitted");
            }
            Host.Result unlock = Host.run(Host.asRootWithoutImmutable("chattr", "-i", p));
            assertThat(unlock.output()).contains("Operation not permitted");
        }
        assertThat(Files.readAllBytes(chunk)).isEqualTo(before);
        // a transport that plants symlinks gets nothing sealed or read through them
        Path planted = layout.incomingChunks().resolve("ab".repeat(32));
        Files.createSymbolicLink(planted, Path.of("/etc/passwd"));
        Files.createSymbolicLink(layout.incomingPoints().resolve("evil-node"), Path.of("/etc"));
        guard.cycle(config(0));
        assertThat(planted).doesNotExist();
        assertThat(layout.storeChunk(ChunkId.parse("ab".repeat(32)))).doesNotExist();
        assertThat(layout.storePoints().resolve("evil-node")).doesNotExist();
        // ...nor can it make the root guard delete elsewhere by swapping its directory for a symlink
        Path victimDir = fs.mount().resolve("precious");
        Files.createDirectories(victimDir);
        Path victim = Files.writeString(victimDir.resolve("not-a-chunk"), "keep me");
        Path moved = layout.incoming().resolve("chunks.real");
        Files.move(layout.incomingChunks(), moved);
        Files.createSymbolicLink(layout.incomingChunks(), victimDir);
        assertThatThrownBy(() -> guard.cycle(config(0))).hasMessageContaining("symlink");
        assertThat(victim).hasContent("keep me");
        Files.delete(layout.incomingChunks());
        Files.move(moved, layout.incomingChunks());
        assertThatThrownBy(() -> store.requestDelete(new PointRef("node-a", "p1")))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("immutable until")
                .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(RepositoryException.Reason.LOCKED);
        assertThat(store.verify(List.of(new PointRef("node-a", "p1"))).healthy()).isTrue();
        assertThat(restore(new PointRef("node-a", "p1"))).isEqualTo(Files.readAllBytes(img));
    }

    @Test
    void onXfsAWriterThatKeptItsDescriptorAndMappingCannotTouchTheLockedCopy() throws Exception {
        setUp("xfs");
        Path img = image("dev.img", 6, 2);
        RestorePointIndex idx = TestData.backup(store, codec, "node-a", "p1", img, Optional.empty(), Optional.empty());
        ChunkId id = idx.chunks().get(0);
        Path incoming = layout.incomingChunk(id);
        try (FileChannel writer = FileChannel.open(incoming, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer map = writer.map(FileChannel.MapMode.READ_WRITE, 0, writer.size());
            CycleReport r = guard.cycle(config(0));
            assertThat(r.reflinked()).isTrue();
            Path sealed = layout.storeChunk(id);
            assertThat(linux.isImmutable(sealed)).isTrue();
            byte[] lockedBefore = Files.readAllBytes(sealed);
            // the transport's old descriptor and shared mapping still write (XFS allows it)...
            int written = writer.write(ByteBuffer.wrap("EVIL-THROUGH-FD".getBytes(StandardCharsets.US_ASCII)), 100);
            map.put(200, (byte) 0x5a).put(201, (byte) 0xa5);
            map.force();
            writer.force(true);
            assertThat(written).isEqualTo(15);
            ByteBuffer check = ByteBuffer.allocate(15);
            writer.read(check, 100);
            assertThat(new String(check.array(), StandardCharsets.US_ASCII)).isEqualTo("EVIL-THROUGH-FD");
            // ...but only into the inode the guard removed; the locked clone is untouched and verifies
            Host.ok("sync");
            Host.ok("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches");
            byte[] lockedAfter = Files.readAllBytes(sealed);
            assertThat(lockedAfter).isEqualTo(lockedBefore);
            ChunkHeader.verifyStored(id, lockedAfter, lockedAfter.length);
        }
        assertThat(store.verify(List.of(new PointRef("node-a", "p1"))).healthy()).isTrue();
        assertThat(restore(new PointRef("node-a", "p1"))).isEqualTo(Files.readAllBytes(img));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs"})
    void afterExpiryRetentionDeletesAndGcReclaims(String type) throws Exception {
        setUp(type);
        Path img = image("dev.img", 24, 3);
        RestorePointIndex p1 = TestData.backup(store, codec, "node-a", "p1", img, Optional.empty(), Optional.empty());
        for (int i = 0; i < 24; i += 2) {
            TestData.change(img, i, TestData.CHUNK, 1000 + i);
        }
        RestorePointIndex p2 = TestData.backup(store, codec, "node-a", "p2", img, Optional.empty(), Optional.empty());
        guard.cycle(config(0));
        Set<ChunkId> onlyP1 = new HashSet<>(p1.chunks());
        onlyP1.removeAll(p2.chunks());
        onlyP1.remove(ChunkId.ZERO);
        assertThat(onlyP1).isNotEmpty();
        ChunkId leased = onlyP1.iterator().next();

        // a forged request while locked is refused by the guard's own rule
        Files.writeString(layout.requests().resolve("forged.req"), "node-a\np1\n");
        assertThat(guard.cycle(config(0)).deletesRefused()).isEqualTo(1);
        assertThat(layout.storePoint("node-a", "p1")).exists();

        long usedBefore = fs.usedBytes();
        GuardConfig expired = config(86_400 + 120); // the guard's own configuration moves its clock past the lock
        guard.cycle(expired);
        store.requestDelete(new PointRef("node-a", "p1"));
        // a backup in progress was just told this chunk exists: GC must keep it
        assertThat(store.missingChunks("node-a", "s-inprogress", List.of(leased))).isEmpty();
        CycleReport del = guard.cycle(expired);
        assertThat(del.pointsDeleted()).isEqualTo(1);
        assertThat(layout.storePoint("node-a", "p1")).doesNotExist();
        CycleReport gc = guard.cycle(expired); // second sighting after the (zero) grace: collected
        assertThat(gc.chunksCollected()).isEqualTo(onlyP1.size() - 1);
        for (ChunkId id : onlyP1) {
            assertThat(layout.storeChunk(id).toFile().exists()).as("chunk %s", id).isEqualTo(id.equals(leased));
        }
        for (ChunkId id : p2.chunks()) {
            if (!id.isZero()) {
                assertThat(layout.storeChunk(id)).exists();
            }
        }
        assertThat(fs.usedBytesOnceBelow(usedBefore, Duration.ofSeconds(30))).isLessThan(usedBefore);
        assertThat(store.verify(List.of(new PointRef("node-a", "p2"))).healthy()).isTrue();
        assertThat(restore(new PointRef("node-a", "p2"))).isEqualTo(Files.readAllBytes(img));
    }

    @Test
    void aNodeAskingAgainCannotKeepAnotherNodesUnreferencedChunksPastTheLeaseTtl() throws Exception {
        setUp("xfs");
        Path img = image("b.img", 16, 21);
        RestorePointIndex p1 = TestData.backup(store, codec, "node-b", "p1", img, Optional.empty(), Optional.empty());
        guard.cycle(config(0));
        List<ChunkId> ids = p1.chunks().stream().filter(id -> !id.isZero()).distinct().toList();
        GuardConfig expired = config(86_400 + 120);
        guard.cycle(expired);
        store.requestDelete(new PointRef("node-b", "p1"));
        // node A never uploaded these; it asks about them (they exist, so they are leased to it)
        assertThat(store.missingChunks("node-a", "s-pin1", ids)).isEmpty();
        assertThat(guard.cycle(expired).pointsDeleted()).isEqualTo(1);
        assertThat(guard.cycle(expired).chunksCollected()).as("within one lease TTL the lease holds").isZero();
        // asking again renews A's lease, but the chunks have been unreferenced for longer than the TTL
        // (86 400 s) by the guard's clock: collected anyway
        assertThat(store.missingChunks("node-a", "s-pin2", ids)).isEmpty();
        GuardConfig later = config(2 * 86_400 + 300);
        guard.cycle(later);
        guard.cycle(later);
        for (ChunkId id : ids) {
            assertThat(layout.storeChunk(id)).as("chunk %s", id).doesNotExist();
        }
    }

    @Test
    void bitRotInASealedChunkIsFoundByVerifyAndStopsARestore() throws Exception {
        setUp("xfs");
        Path img = image("dev.img", 8, 5);
        RestorePointIndex p1 = TestData.backup(store, codec, "node-a", "p1", img, Optional.empty(), Optional.empty());
        TestData.change(img, 0, TestData.CHUNK, 55);
        TestData.backup(store, codec, "node-a", "p2", img, Optional.empty(), Optional.empty());
        guard.cycle(config(0));
        ChunkId victim = p1.chunks().get(1);
        Path file = layout.storeChunk(victim);
        // simulate bit rot underneath the lock (only root with CAP_LINUX_IMMUTABLE can do this)
        Host.ok("chattr", "-i", file.toString());
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            long pos = raf.length() - 1000;
            raf.seek(pos);
            int b = raf.read();
            raf.seek(pos);
            raf.write(b ^ 0x01);
        }
        Host.ok("chattr", "+i", file.toString());
        List<PointRef> both = List.of(new PointRef("node-a", "p1"), new PointRef("node-a", "p2"));
        var report = store.verify(both);
        assertThat(report.damaged()).singleElement().satisfies(d -> {
            assertThat(d.id()).isEqualTo(victim);
            assertThat(d.problem()).contains("damaged");
            assertThat(d.points()).containsExactlyElementsOf(both);
        });
        assertThat(report.brokenPoints()).containsExactlyElementsOf(both);
        assertThatThrownBy(() -> restore(new PointRef("node-a", "p2"))).isInstanceOf(RepositoryException.class)
                .hasMessageContaining(victim.hex());
        // the host-side health check says the same, as the transport user (read-only)
        Path jar = Host.runnerJar(fs.mount().getParent().resolve("jar"));
        Host.Result cli = Host.run(Host.asTransportUser(Host.java(), "-jar", jar.toString(), "verify", "--root",
                layout.root().toString()));
        assertThat(cli.exit()).as(cli.output()).isEqualTo(1);
        assertThat(cli.output()).contains("DAMAGED chunk " + victim.hex()).contains("BROKEN restore point node-a/p1")
                .contains("BROKEN restore point node-a/p2");
    }

    @Test
    void aRootTheTransportMayWriteIsMadeStickySoItCannotSwapTheStore() throws Exception {
        setUp("ext4");
        // as in a pod: fsGroup makes the volume root group-writable (setgid) for the transport's group
        String gid = Host.ensureTransportUser().split(":")[1];
        Host.ok("chgrp", gid, layout.root().toString());
        Host.ok("chmod", "2775", layout.root().toString());
        Host.Result before = Host.run(Host.asTransportUser("mkdir", layout.root().resolve("planted").toString()));
        assertThat(before.exit()).as("the transport may create entries in the root: " + before.output()).isZero();

        guard.prepare();
        int mode = (Integer) Files.getAttribute(layout.root(), "unix:mode");
        assertThat(mode & 07777).isEqualTo(03775);
        for (String victim : List.of("store", "guard")) {
            Host.Result swap = Host.run(Host.asTransportUser("mv", layout.root().resolve(victim).toString(),
                    layout.root().resolve(victim + ".old").toString()));
            assertThat(swap.exit()).as(victim + ": " + swap.output()).isNotZero();
            assertThat(swap.output()).contains("Operation not permitted");
        }
        assertThat(layout.store()).isDirectory();

        // a store/ somebody else made before the guard ever ran is not trusted
        RepositoryLayout other = new RepositoryLayout(fs.mount().resolve("other"));
        Files.createDirectories(other.store());
        Host.ok("chown", Host.ensureTransportUser(), other.store().toString());
        Guard fresh = new Guard(other, linux, clock, log);
        assertThatThrownBy(fresh::prepare).hasMessageContaining(other.store() + " is not a directory of root's")
                .hasMessageContaining("move it away");
    }
}
