package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkHeader;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.EncodedChunk;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.Tls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full repository volume (issue 17, item 5), with the real transport (unprivileged user) and the
 * real guard on a small XFS loop filesystem: an unrelated file takes most of the space, uploads fill
 * the rest. Every new upload is then refused with QUOTA_EXCEEDED and a message that says the
 * repository filesystem is full (the node agent reports it as RepositoryFull); no partial point is
 * committed; what was stored before verifies and restores byte for byte; and once the unrelated file
 * is deleted, the same client connection and the same writer finish the backup, with the transport
 * and the guard never restarted. Twice: with no reserve (the writes themselves meet ENOSPC) and with
 * a reserve ({@code --min-free-bytes}, refused before writing).
 */
class RepositoryFullIT {

    static final String NODE_TOKEN = "full-test-node-token-0123456789";
    static final String OPERATOR_TOKEN = "full-test-operator-token-0123456789";
    static final int CHUNK = 1 << 20;
    /** What the ballast leaves for the repository: less than the backup that is to fill it. */
    static final long LEFT_FOR_REPOSITORY = 40L << 20;

    @ParameterizedTest(name = "reserve {0} bytes")
    @ValueSource(longs = {0, 16L << 20})
    void aFullVolumeRefusesEveryUploadDamagesNothingAndBackupsResumeOnceSpaceIsFreed(long reserve) throws Exception {
        Host.requireRoot();
        Host.ensureTransportUser();
        Path work = Files.createTempDirectory("blockvault-full-it");
        // the transport user reads the jar and its TLS material below it
        Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Host.runnerJar(work.resolve("jar"));
        TestTls tls = Processes.tls(work.resolve("tls"));
        Path tokens = work.resolve("tokens");
        Files.writeString(tokens, NODE_TOKEN + " node:node-a\n" + OPERATOR_TOKEN + " operator\n");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Process guard = null;
        Processes.Transport transport = null;
        try (LoopFilesystem fs = LoopFilesystem.create("xfs", 512L << 20)) {
            Path root = fs.mount().resolve("repo");
            Processes.prepareRepository(root);
            RepositoryLayout layout = new RepositoryLayout(root);
            Path guardConfig = work.resolve("guard.properties");
            Processes.writeGuardConfig(guardConfig, root, 1, 0, 3600);
            Path guardLog = work.resolve("guard.log");
            guard = Processes.startGuard(jar, guardConfig, guardLog);
            transport = Processes.startTransport(jar, root, tls, tokens, "--min-free-bytes", Long.toString(reserve));
            SSLContext ctx = Tls.client(tls.caCert());
            ChunkCodec codec = TestData.codec(true);
            TransportClient.Endpoint node = new TransportClient.Endpoint("127.0.0.1", transport.port(), ctx,
                    NODE_TOKEN);
            TransportClient.Endpoint operator = new TransportClient.Endpoint("127.0.0.1", transport.port(), ctx,
                    OPERATOR_TOKEN);

            // what is stored before the volume fills
            Path small = TestData.image(work.resolve("small.img"), 8, CHUNK, 7, 0);
            try (TransportClient c = TransportClient.connect(node)) {
                backup(new BackupWriter(c, codec, pool, 4), "p1", small);
                TestData.change(small, 1, CHUNK, 70);
                backup(new BackupWriter(c, codec, pool, 4), "p2", small);
            }
            byte[] p2Image = Files.readAllBytes(small);
            awaitSealed(layout, "p1", "p2");

            // an unrelated file takes the space, so that uploads fill the rest soon
            Path ballast = fs.mount().resolve("ballast");
            long usable = Files.getFileStore(fs.mount()).getUsableSpace();
            Host.ok("fallocate", "-l", Long.toString(usable - LEFT_FOR_REPOSITORY), ballast.toString());
            Path big = randomImage(work.resolve("big.img"), 80, 11);
            try (TransportClient c = TransportClient.connect(node)) {
                BackupWriter writer = new BackupWriter(c, codec, pool, 4);
                RepositoryException failed = (RepositoryException) org.assertj.core.api.Assertions.catchThrowable(
                        () -> backup(writer, "p3", big));
                assertThat(failed).as("the backup that fills the volume").isNotNull();
                assertFull(failed, reserve);
                // whatever room the failed backup's parallel uploads left, new uploads take it, then are refused
                Random random = new Random(99);
                int accepted = 0;
                while (true) {
                    EncodedChunk chunk = freshChunk(codec, random);
                    try {
                        c.putChunk("node-a", chunk.id(), chunk.stored(), chunk.stored().length);
                        accepted++;
                        assertThat(accepted).as("uploads accepted after the backup failed").isLessThan(64);
                    } catch (RepositoryException e) {
                        assertFull(e, reserve);
                        System.out.printf("reserve %d: the backup failed with %s: %s%n  %d uploads accepted after it, "
                                + "then %s: %s; %d bytes usable%n", reserve, failed.reason(), failed.getMessage(),
                                accepted, e.reason(), e.getMessage(), Files.getFileStore(fs.mount()).getUsableSpace());
                        break;
                    }
                }
                for (int i = 0; i < 5; i++) {
                    EncodedChunk chunk = freshChunk(codec, random);
                    assertThatThrownBy(() -> c.putChunk("node-a", chunk.id(), chunk.stored(), chunk.stored().length))
                            .isInstanceOf(RepositoryException.class)
                            .satisfies(e -> assertFull((RepositoryException) e, reserve));
                }
                if (reserve > 0) {
                    assertThat(Files.getFileStore(fs.mount()).getUsableSpace()).as("the reserve is kept")
                            .isGreaterThan(reserve - CHUNK);
                }

                // nothing stored is damaged, and no partial point or file was left behind
                assertThat(files(layout.incomingTmp())).as("temp files of refused uploads").isEmpty();
                assertEveryChunkFileIsWhole(layout);
                try (TransportClient op = TransportClient.connect(operator)) {
                    assertThat(op.listPoints(Optional.of("node-a"))).extracting(p -> p.ref().pointId())
                            .containsExactlyInAnyOrder("p1", "p2");
                    VerifyReport report = op.verify(List.of(new PointRef("node-a", "p1"), new PointRef("node-a", "p2")));
                    assertThat(report.healthy()).as("verify while full: %s", report).isTrue();
                }
                assertThat(restore(c, codec, work, "p2")).isEqualTo(p2Image);

                // space comes back; the same connection and the same writer finish the backup
                Files.delete(ballast);
                Host.ok("sync");
                RestorePointIndex p3 = backup(writer, "p3", big);
                assertThat(p3.pointId()).isEqualTo("p3");
                assertThat(restore(c, codec, work, "p3")).isEqualTo(Files.readAllBytes(big));
            }
            awaitSealed(layout, "p1", "p2", "p3");
            assertThat(guard.isAlive()).as("the guard survived the full volume").isTrue();
            try (TransportClient op = TransportClient.connect(operator)) {
                List<PointSummary> all = op.listPoints(Optional.of("node-a"));
                assertThat(all).extracting(p -> p.ref().pointId()).containsExactlyInAnyOrder("p1", "p2", "p3");
                assertThat(all).allSatisfy(p -> assertThat(p.sealed()).isTrue());
                VerifyReport report = op.verify(all.stream().map(PointSummary::ref).toList());
                assertThat(report.healthy()).as("verify after: %s", report).isTrue();
            }
            assertThat(Files.readString(guardLog)).doesNotContain("does not verify").doesNotContain("is damaged");
            assertThat(transport.process().isAlive()).isTrue();
            System.out.printf("repository full (reserve %d): refused with the transport and guard running; guard "
                    + "cycles that failed meanwhile: %d%n", reserve,
                    Files.readString(guardLog).split("guard cycle failed", -1).length - 1);
        } finally {
            if (transport != null) {
                transport.kill();
            }
            if (guard != null) {
                guard.destroyForcibly();
                guard.waitFor(30, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
            Host.deleteTree(work);
        }
    }

    /** The refusal a client sees when the volume is full: QUOTA_EXCEEDED, saying so and what to do. */
    private static void assertFull(RepositoryException e, long reserve) {
        assertThat(e.reason()).as("reason of %s", e.getMessage()).isEqualTo(RepositoryException.Reason.QUOTA_EXCEEDED);
        assertThat(e.getMessage()).contains("the repository filesystem");
        if (reserve == 0) {
            assertThat(e.getMessage()).containsAnyOf("is full", "bytes free and keeps a reserve of 0");
        } else {
            assertThat(e.getMessage()).contains("keeps a reserve of " + reserve + " (--min-free-bytes)");
        }
        assertThat(e.getMessage()).containsAnyOf("add space or prune", "add space or prune old restore points");
    }

    private static RestorePointIndex backup(BackupWriter writer, String point, Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            BackupRequest req = new BackupRequest("node-a", point, new DeviceIdentity("/dev/disk/by-id/full",
                    ch.size()), CHUNK, new ChangeId("g", 1), Optional.empty(), Optional.empty());
            return writer.backup(req, ch);
        }
    }

    private static EncodedChunk freshChunk(ChunkCodec codec, Random random) {
        byte[] plain = new byte[CHUNK];
        random.nextBytes(plain);
        return codec.encode(plain, 0, plain.length);
    }

    /** An image of random (incompressible) chunks, so that it takes its size in the repository. */
    private static Path randomImage(Path file, int chunks, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] b = new byte[CHUNK];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < chunks; i++) {
                r.nextBytes(b);
                ch.write(ByteBuffer.wrap(b));
            }
        }
        return file;
    }

    /** Every chunk file that has its final name, waiting or sealed, is complete and checks. */
    private static void assertEveryChunkFileIsWhole(RepositoryLayout layout) throws IOException {
        for (Path dir : List.of(layout.incomingChunks(), layout.storeChunks())) {
            for (Path f : files(dir)) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(f);
                } catch (NoSuchFileException e) {
                    continue; // the guard sealed it meanwhile; its store copy is checked below
                }
                ChunkHeader.verifyStored(ChunkId.parse(f.getFileName().toString()), bytes, bytes.length);
            }
        }
    }

    private static byte[] restore(TransportClient c, ChunkCodec codec, Path work, String point) throws IOException {
        Path out = work.resolve("restore-" + point);
        Files.deleteIfExists(out);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            new RestoreReader(c, codec, 8).restore(new PointRef("node-a", point), ch, false);
        }
        return Files.readAllBytes(out);
    }

    private static void awaitSealed(RepositoryLayout layout, String... points) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline
                && !Stream.of(points).allMatch(p -> Files.exists(layout.storePoint("node-a", p)))) {
            Thread.sleep(200);
        }
        for (String p : points) {
            assertThat(layout.storePoint("node-a", p)).as("sealed %s", p).exists();
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
