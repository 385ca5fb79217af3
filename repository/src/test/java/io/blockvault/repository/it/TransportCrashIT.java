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
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.Tls;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * The transport as the unprivileged user, the guard as root with only its capabilities, on XFS:
 * kill -9 the transport at random moments of many uploads; after each restart no temp file is
 * left, the interrupted backup completes, and in the end every restore point verifies and restores.
 */
class TransportCrashIT {

    static final String NODE_TOKEN = "crash-test-node-token-0123456789";
    static final String OPERATOR_TOKEN = "crash-test-operator-token-0123456789";
    static final int CHUNK = 1 << 20;

    private static RestorePointIndex backup(TransportClient c, ChunkCodec codec, String point, Path image,
            ExecutorService pool) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            BackupRequest req = new BackupRequest("node-a", point, new DeviceIdentity("/dev/disk/by-id/crash",
                    ch.size()), CHUNK, new ChangeId("g", 1), Optional.empty(), Optional.empty());
            return new BackupWriter(c, codec, pool, 4).backup(req, ch);
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

    @Test
    void killDashNineAtRandomPointsLosesNothingThatWasCommitted() throws Exception {
        Host.requireRoot();
        Host.ensureTransportUser();
        Path work = Files.createTempDirectory("blockvault-crash-it");
        Path jar = Host.runnerJar(work);
        TestTls tls = Processes.tls(work.resolve("tls"));
        Path tokens = work.resolve("tokens");
        Files.writeString(tokens, NODE_TOKEN + " node:node-a\n" + OPERATOR_TOKEN + " operator\n");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (LoopFilesystem fs = LoopFilesystem.create("xfs", 1L << 30)) {
            Path root = fs.mount().resolve("repo");
            Processes.prepareRepository(root);
            RepositoryLayout layout = new RepositoryLayout(root);
            Path guardConfig = work.resolve("guard.properties");
            Processes.writeGuardConfig(guardConfig, root, 1, 0, 3600);
            Process guard = Processes.startGuard(jar, guardConfig, work.resolve("guard.log"));
            SSLContext ctx = Tls.client(tls.caCert());
            ChunkCodec codec = TestData.codec(true);
            Path image = work.resolve("dev.img");
            TestData.image(image, 24, CHUNK, 99, 0);
            Random random = new Random(2026);
            Processes.Transport transport = Processes.startTransport(jar, root, tls, tokens);
            List<String> committed = new ArrayList<>();
            int interrupted = 0;
            try {
                for (int round = 0; round < 10; round++) {
                    for (int k = 0; k < 4; k++) {
                        TestData.change(image, random.nextInt(24), CHUNK, random.nextLong());
                    }
                    String point = "r" + round;
                    int port = transport.port();
                    Future<RestorePointIndex> f = runner.submit(() -> {
                        try (TransportClient c = TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", port,
                                ctx, NODE_TOKEN))) {
                            return backup(c, codec, point, image, pool);
                        }
                    });
                    Thread.sleep(random.nextInt(400));
                    transport.kill();
                    boolean done;
                    try {
                        f.get(60, TimeUnit.SECONDS);
                        done = true;
                    } catch (java.util.concurrent.ExecutionException e) {
                        done = false;
                        interrupted++;
                    }
                    transport = Processes.startTransport(jar, root, tls, tokens);
                    assertThat(files(layout.incomingTmp())).as("temp files after restart %d", round).isEmpty();
                    try (TransportClient c = TransportClient.connect(new TransportClient.Endpoint("127.0.0.1",
                            transport.port(), ctx, NODE_TOKEN))) {
                        RestorePointIndex idx = backup(c, codec, point, image, pool); // completes or is a no-op
                        if (!done) {
                            assertThat(idx.pointId()).isEqualTo(point);
                        }
                        Path out = work.resolve("restore.out");
                        Files.deleteIfExists(out);
                        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE)) {
                            new RestoreReader(c, codec, 8).restore(new PointRef("node-a", point), ch, false);
                        }
                        assertThat(Files.mismatch(out, image)).isEqualTo(-1L);
                    }
                    committed.add(point);
                }
                assertThat(interrupted).as("kills that interrupted a backup").isPositive();
                // the guard seals everything the transport left
                long deadline = System.currentTimeMillis() + 60_000;
                while ((!files(layout.incomingChunks()).isEmpty() || !files(layout.incomingPoints()).isEmpty())
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(200);
                }
                assertThat(files(layout.incomingChunks())).isEmpty();
                assertThat(files(layout.incomingPoints())).isEmpty();
                try (TransportClient op = TransportClient.connect(new TransportClient.Endpoint("127.0.0.1",
                        transport.port(), ctx, OPERATOR_TOKEN))) {
                    List<PointSummary> all = op.listPoints(Optional.empty());
                    assertThat(all).extracting(p -> p.ref().pointId()).containsExactlyInAnyOrderElementsOf(committed);
                    assertThat(all).allSatisfy(p -> {
                        assertThat(p.sealed()).isTrue();
                        assertThat(p.lockedUntil()).isPresent();
                    });
                    VerifyReport report = op.verify(all.stream().map(PointSummary::ref).toList());
                    assertThat(report.healthy()).as("verify: %s", report).isTrue();
                    assertThat(report.chunksChecked()).isPositive();
                    assertThatThrownBy(() -> op.requestDelete(new PointRef("node-a", "r0")))
                            .isInstanceOf(RepositoryException.class).hasMessageContaining("immutable until");
                }
            } finally {
                transport.kill();
                guard.destroyForcibly();
                guard.waitFor(30, TimeUnit.SECONDS);
            }
            assertThat(Files.readString(work.resolve("guard.log"))).contains("sealed restore point node-a/r9")
                    .doesNotContain("cycle failed");
        } finally {
            pool.shutdownNow();
            runner.shutdownNow();
            Host.deleteTree(work);
        }
    }
}
