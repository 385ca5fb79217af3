package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockvault.agent.restore.RestoreEngine;
import io.blockvault.agent.restore.RestoreSettings;
import io.blockvault.agent.snapshot.NoSnapProvider;
import io.blockvault.agent.snapshot.Snapshot;
import io.blockvault.agent.snapshot.SnapshotOptions;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.testing.AgentIdentity;
import io.blockvault.agent.testing.Host;
import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.agent.testing.TestRepository;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.it.Processes;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.Tls;
import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.WithKubeApiServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's transport goes away in the middle of a backup: the transport is a real process
 * (the repository's runner jar, as the unprivileged user it runs as in production), killed while
 * the agent uploads and started again on the same port. The Backup retries within the same object
 * ("retrying after: ..." in its status), with the snapshot taken again, succeeds, sends only what
 * the repository still lacked, and its point restores byte for byte.
 */
@WithKubeApiServer
class RepositoryRestartIT {

    static final String NODE = TestRepository.NODE;
    static final int CHUNK = 1 << 20;
    static final long SIZE = 32L * CHUNK;

    final KubernetesClient client;
    /** The agent's own identity: the chart's ServiceAccount and rules (AgentIdentity). */
    final KubernetesClient agent;
    @TempDir
    Path dir;
    Path work;
    Process transport;
    final StringBuffer transportLog = new StringBuffer();
    final List<AutoCloseable> cleanup = new ArrayList<>();

    RepositoryRestartIT(KubeApiServer api, KubernetesClient client) {
        this.client = client;
        AgentIdentity.install(client);
        this.agent = AgentIdentity.impersonatingClient(client);
    }

    @AfterEach
    void stop() throws Exception {
        ControllerTesting.closeAll(cleanup);
        agent.close();
        kill();
        client.resources(Backup.class).delete();
        if (work != null) {
            Host.ok(dir, "rm", "-rf", work.toString());
        }
    }

    /** The repository module's runner jar, readable by the transport user. */
    Path runnerJar() throws IOException {
        Path target = Path.of(System.getProperty("user.dir")).resolveSibling("repository").resolve("target");
        Path jar;
        try (Stream<Path> s = Files.list(target)) {
            jar = s.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow(() ->
                    new IllegalStateException("no *-runner.jar in " + target + "; run the ITs with "
                            + "'./mvnw -pl node-agent -am verify', whose package phase builds it"));
        }
        Path copy = work.resolve("repository.jar");
        Files.copy(jar, copy);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
        return copy;
    }

    void startTransport(Path jar, Path root, TestTls tls, Path tokens, int port) throws Exception {
        transport = new ProcessBuilder(io.blockvault.repository.it.Host.asTransportUser(
                io.blockvault.repository.it.Host.java(), "-Xmx256m", "-jar", jar.toString(), "serve", "--root",
                root.toString(), "--listen", "127.0.0.1", "--port", Integer.toString(port), "--tls-cert",
                tls.serverCert().toString(), "--tls-key", tls.serverKey().toString(), "--token-file",
                tokens.toString(), "--min-free-bytes", "0")).redirectErrorStream(true).start();
        Process p = transport;
        java.util.concurrent.CompletableFuture<Void> listening = new java.util.concurrent.CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    transportLog.append(line).append('\n');
                    if (line.startsWith("listening ")) {
                        listening.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            listening.completeExceptionally(new IOException("the transport exited: " + transportLog));
        }, "transport-output");
        reader.setDaemon(true);
        reader.start();
        listening.get(60, TimeUnit.SECONDS);
    }

    void kill() throws InterruptedException {
        if (transport != null) {
            transport.destroyForcibly(); // kill -9: no goodbye on the open connections
            transport.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static long files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    /** The node's provider, counting takes and releases: a retry must release, then take again. */
    static final class Counting implements SnapshotProvider {
        final SnapshotProvider inner = new NoSnapProvider();
        final List<String> events = new CopyOnWriteArrayList<>();
        final AtomicInteger n = new AtomicInteger();

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Snapshot take(List<String> devices, SnapshotOptions options) throws IOException {
            Snapshot s = inner.take(devices, options);
            int id = n.incrementAndGet();
            events.add("take " + id);
            return new Snapshot() {
                @Override
                public Path image(String device) {
                    return s.image(device);
                }

                @Override
                public Optional<Tracking> tracking(String device) throws IOException {
                    return s.tracking(device);
                }

                @Override
                public boolean crashConsistent() {
                    return s.crashConsistent();
                }

                @Override
                public Optional<String> failure() {
                    return s.failure();
                }

                @Override
                public void close() throws IOException {
                    s.close();
                    events.add("release " + id);
                }
            };
        }
    }

    @Test
    void aBackupSurvivesTheTransportsRestartAndItsPointRestoresByteForByte() throws Exception {
        Host.requireRoot();
        io.blockvault.repository.it.Host.ensureTransportUser();
        work = Files.createTempDirectory("blockvault-agent-restart-it");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = runnerJar();
        TestTls tls = Processes.tls(work.resolve("tls"));
        Path tokens = work.resolve("tokens");
        Files.writeString(tokens, TestRepository.TOKEN + " node:" + NODE + "\n");
        Files.setPosixFilePermissions(tokens, PosixFilePermissions.fromString("rw-r--r--"));
        Path root = work.resolve("repo");
        Processes.prepareRepository(root);
        int port = freePort();
        startTransport(jar, root, tls, tokens, port);

        LoopDevice disk = LoopDevice.create(dir.resolve("disk"), SIZE);
        cleanup.add(disk);
        byte[] data = new byte[(int) SIZE];
        new Random(11).nextBytes(data);
        disk.write(0, data);

        TransportClient.Endpoint endpoint = new TransportClient.Endpoint("127.0.0.1", port, Tls.client(tls.caCert()),
                TestRepository.TOKEN);
        Counting snapshots = new Counting();
        // 4 MiB/s: the 32 MiB upload takes about 8 s, so the kill lands in the middle of it.
        ServedRepositories served = new ServedRepositories(java.util.Map.of("main", new ServedRepositories.Served(
                "main", () -> ConnectionPool.of(endpoint, 2), TestRepository.codec())));
        EngineBackupRunner runner = new EngineBackupRunner(NODE, served, snapshots, new EngineBackupRunner.Tuning(dir,
                64L << 20, 2, 2, CHUNK, true, false, 4L << 20), Clock.systemUTC(), Optional.empty());
        BackupController controller = new BackupController(agent, new BackupController.Settings(NODE,
                java.util.Set.of("main"), null, 1, Duration.ZERO, Duration.ofSeconds(30), new BackupController.Retries(3, Duration.ofSeconds(2))),
                new DeviceResolver(), runner, Clock.systemUTC());
        cleanup.add(controller);
        controller.start();

        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName("restarted").build());
        b.setSpec(new BackupSpec(null, "main", NODE, disk.device().toString(), BackupType.Auto));
        client.resource(b).create();

        // Some chunks are stored, most are not: kill the transport mid-upload.
        Path chunks = new RepositoryLayout(root).incomingChunks();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> files(chunks) >= 4);
        kill();
        long storedBeforeKill = files(chunks);
        assertThat(storedBeforeKill).as("the kill came before the backup finished").isLessThan(SIZE / CHUNK);

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            BackupStatus s = status();
            assertThat(s.phase()).isEqualTo(BackupPhase.Running);
            assertThat(s.message()).startsWith("retrying after: ").contains("attempt 2 of 4");
        });
        assertThat(status().message()).contains("repository", "check that the repository's transport runs");
        startTransport(jar, root, tls, tokens, port);

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(status().phase()).as(() -> status().message() + "\n" + transportLog)
                        .isEqualTo(BackupPhase.Succeeded));
        BackupStatus s = status();
        assertThat(s.message()).contains("committed", "with the snapshot taken again, after: ");
        assertThat(s.conditions()).anySatisfy(c -> assertThat(c.getReason()).isEqualTo("Succeeded"));
        // Each attempt released its snapshot before the next was taken.
        int takes = snapshots.n.get();
        assertThat(takes).isGreaterThanOrEqualTo(2);
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= takes; i++) {
            expected.add("take " + i);
            expected.add("release " + i);
        }
        assertThat(snapshots.events).containsExactlyElementsOf(expected);
        // The lack check: the last attempt did not send what the killed one had stored.
        assertThat(s.progress().scannedBytes()).isEqualTo(SIZE);
        assertThat(s.progress().sentBytes()).isLessThanOrEqualTo((SIZE / CHUNK - storedBeforeKill) * (CHUNK + 4096));

        Path out = dir.resolve("restored.img");
        try (ConnectionPool pool = ConnectionPool.of(endpoint, 2)) {
            new RestoreEngine(pool, TestRepository.codec(), device -> Optional.empty()).restore(
                    new PointRef(NODE, s.restorePointId()), new RestoreSettings(out, false, false, 2, true), p -> { });
        }
        assertThat(Files.readAllBytes(out)).isEqualTo(data);
    }

    BackupStatus status() {
        Backup b = client.resources(Backup.class).withName("restarted").get();
        assertThat(b).isNotNull();
        assertThat(b.getStatus()).as("the agent has written a status").isNotNull();
        return b.getStatus();
    }
}
