package io.blockvault.operator;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.guard.Guard;
import io.blockvault.repository.guard.GuardConfig;
import io.blockvault.repository.guard.TrustedClock;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import io.blockvault.repository.transport.FileTokenAuthenticator;
import io.blockvault.repository.transport.Tls;
import io.blockvault.repository.transport.TransportConfig;
import io.blockvault.repository.transport.TransportServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * A real repository in the test process: the transport on 127.0.0.1 with the certificate and key
 * the test gives it (the operator's own TLS Secret), file tokens for the operator and two nodes, the
 * store in a temporary directory, and the guard run a cycle at a time on demand (root only: it locks
 * what it seals with FS_IMMUTABLE_FL).
 */
public final class InProcessRepository implements AutoCloseable {

    public static final String OPERATOR_TOKEN = "oooooooooooooooo-operator-token";
    public static final String NODE_A = "node-a";
    public static final String NODE_B = "node-b";
    private static final String NODE_A_TOKEN = "aaaaaaaaaaaaaaaa-node-a-token";
    private static final String NODE_B_TOKEN = "bbbbbbbbbbbbbbbb-node-b-token";
    /** The guard's lock period in these tests. */
    public static final int LOCK_DAYS = 1;

    private final Path dir;
    private final RepositoryLayout layout;
    private final TransportServer server;
    private final SSLContext clientTls;
    private final String serverName;
    private final ChunkCodec codec = TestData.codec(false);
    private final Linux linux = new Linux();
    private final GuardSources sources = new GuardSources();
    private Guard guard;
    private TrustedClock guardClock;
    private long advanceSeconds;

    /** Wall and boot time of the guard's clock; boot time stands still, the wall only moves by {@link #stepWallClock}. */
    private static final class GuardSources implements TrustedClock.Sources {
        long wall = System.currentTimeMillis();
        final long boot = 1_000_000_000L;

        @Override
        public long wallMillis() {
            return wall;
        }

        @Override
        public long boottimeNanos() {
            return boot;
        }

        @Override
        public long kernelUptimeNanos() {
            return boot;
        }

        @Override
        public String bootId() {
            return "boot-1";
        }
    }

    private InProcessRepository(Path dir, RepositoryLayout layout, TransportServer server, SSLContext clientTls,
            String serverName) {
        this.dir = dir;
        this.layout = layout;
        this.server = server;
        this.clientTls = clientTls;
        this.serverName = serverName;
    }

    /**
     * Starts the transport with {@code certPem}/{@code keyPem} (PEM, PKCS#8 key), trusted through
     * {@code caPem} by the test's own clients, which verify {@code serverName}.
     */
    public static InProcessRepository start(Path dir, String certPem, String keyPem, String caPem, String serverName)
            throws IOException {
        Files.createDirectories(dir);
        Path cert = Files.writeString(dir.resolve("tls.crt"), certPem);
        Path key = Files.writeString(dir.resolve("tls.key"), keyPem);
        Path ca = Files.writeString(dir.resolve("ca.crt"), caPem);
        Path tokens = Files.writeString(dir.resolve("tokens"), OPERATOR_TOKEN + " operator\n" + NODE_A_TOKEN + " node:"
                + NODE_A + "\n" + NODE_B_TOKEN + " node:" + NODE_B + "\n");
        RepositoryLayout layout = new RepositoryLayout(dir.resolve("repo"));
        RepositoryStore store = new RepositoryStore(layout, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        store.open();
        TransportServer server = new TransportServer(TransportConfig.defaults(InetAddress.getLoopbackAddress(), 0),
                Tls.server(cert, key), new FileTokenAuthenticator(tokens, Clock.systemUTC(), false), store,
                System.getLogger("test-transport"));
        server.start();
        return new InProcessRepository(dir, layout, server, Tls.client(ca), serverName);
    }

    /** Where the operator dials it. */
    public String address() {
        return "127.0.0.1:" + server.port();
    }

    /** A file holding the operator's token, as the Helm chart mounts it. */
    public Path operatorTokenFile() throws IOException {
        return Files.writeString(dir.resolve("operator-token"), OPERATOR_TOKEN + "\n");
    }

    public static boolean runningAsRoot() {
        return new Linux().effectiveUid() == 0;
    }

    private TransportClient connect(String token) throws IOException {
        return TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, token)
                .withServerName(serverName));
    }

    private static String token(String node) {
        return node.equals(NODE_A) ? NODE_A_TOKEN : NODE_B_TOKEN;
    }

    /** A real backup of a small random image by {@code node}: its chunks and point {@code pointId}. */
    public RestorePointIndex backup(String node, String pointId, long seed) throws IOException {
        Path image = TestData.image(dir.resolve("image-" + UUID.randomUUID()), 4, TestData.CHUNK, seed, 0);
        try (TransportClient c = connect(token(node))) {
            return TestData.backup(c, codec, node, pointId, image, Optional.empty(), Optional.empty());
        } finally {
            Files.delete(image);
        }
    }

    /**
     * Commits another restore point of the same data as {@code like} (its chunks are there), as the
     * agent of its node would, for {@code device} and taken at {@code startedAt} (finished a minute later).
     */
    public void commit(RestorePointIndex like, String pointId, String device, Instant startedAt) throws IOException {
        RestorePointIndex index = new RestorePointIndex(pointId, like.node(), new DeviceIdentity(device,
                like.device().sizeBytes()), like.chunkSizeBytes(), like.changeId(), Optional.empty(),
                startedAt.toEpochMilli(), startedAt.plusSeconds(60).toEpochMilli(), like.keyId(), like.stats(),
                like.chunks());
        try (TransportClient c = connect(token(like.node()))) {
            c.commit(index, "session-" + pointId);
        }
    }

    /** Every point as the operator lists it. */
    public List<PointSummary> points() throws IOException {
        try (TransportClient c = connect(OPERATOR_TOKEN)) {
            return c.listPoints(Optional.empty());
        }
    }

    /** The repository's figures as the operator asks for them. */
    public RepositoryStats stats() throws IOException {
        try (TransportClient c = connect(OPERATOR_TOKEN)) {
            return c.stats();
        }
    }

    /**
     * One guard cycle: seals what was committed (locked for {@link #LOCK_DAYS} by the trusted
     * clock) and carries out deletion requests its rules allow.
     */
    public void guardCycle() throws IOException {
        if (guard == null) {
            Files.createDirectories(layout.guardState());
            guardClock = new TrustedClock(layout.guardState().resolve("clock.properties"), sources,
                    System.getLogger("test-guard"));
            guardClock.start(config());
            guard = new Guard(layout, linux, guardClock, System.getLogger("test-guard"));
            guard.prepare();
        }
        guard.cycle(config());
    }

    /** Moves the guard's trusted clock past the locks it set so far, then runs a cycle. */
    public void expireLocks() throws IOException {
        advanceSeconds += LOCK_DAYS * 86_400L + 60;
        guardCycle();
    }

    /** Someone sets the repository host's system clock {@code step} ahead; the guard sees it at its next cycle. */
    public void stepWallClock(java.time.Duration step) {
        sources.wall += step.toMillis();
    }

    /** The guard's trusted time. */
    public Instant guardNow() {
        return Instant.ofEpochMilli(guardClock.nowMillis());
    }

    private GuardConfig config() {
        return new GuardConfig(layout.root(), LOCK_DAYS, advanceSeconds, 1000, 0, 0, 86_400, 60, 3600, 86_400);
    }

    /** Stops the transport (the store stays, for a later look). */
    public void stop() throws IOException {
        server.close();
    }

    @Override
    public void close() throws IOException {
        server.close();
        // The guard locked what it sealed: unlock it so that the directory can be removed.
        if (Files.isDirectory(layout.store())) {
            try (Stream<Path> s = Files.walk(layout.store())) {
                for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                    if (linux.isImmutable(p)) {
                        linux.setImmutable(p, false);
                    }
                }
            }
        }
    }
}
