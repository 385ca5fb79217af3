package io.blockvault.repository.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.blockvault.repository.FakeClockSources;
import io.blockvault.repository.TestData;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.guard.Guard;
import io.blockvault.repository.guard.GuardConfig;
import io.blockvault.repository.guard.TrustedClock;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** STATS over a real TLS transport, on a repository of its own so the numbers are exact. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransportStatsTest {

    static final String NODE_A = "aaaaaaaaaaaaaaaa-node-a-token";
    static final String OPERATOR = "oooooooooooooooo-operator-token";
    static final StoreLimits LIMITS = new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000);

    @TempDir
    static Path dir;
    static RepositoryLayout layout;
    static TransportServer server;
    static SSLContext clientTls;
    static final Linux linux = new Linux();
    final ChunkCodec codec = TestData.codec(false);

    @BeforeAll
    static void start() throws Exception {
        TestTls certs = TestTls.create(dir.resolve("tls"));
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, NODE_A + " node:node-a\n" + OPERATOR + " operator\n");
        layout = new RepositoryLayout(dir.resolve("repo"));
        RepositoryStore store = new RepositoryStore(layout, LIMITS);
        store.open();
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000,
                30_000, 1 << 20);
        server = new TransportServer(config, Tls.server(certs.serverCert(), certs.serverKey()),
                new FileTokenAuthenticator(tokens, Clock.systemUTC(), false), store, System.getLogger("test"));
        server.start();
        clientTls = Tls.client(certs.caCert());
    }

    @AfterAll
    static void stop() throws IOException {
        server.close();
        // the guard locked what it sealed; unlock it so the temporary directory can be removed
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

    static TransportClient client(String token) throws IOException {
        return TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, token));
    }

    /** Bytes of the image's non-zero chunks, counted from the file itself. */
    static long nonZeroBytes(Path image) throws IOException {
        byte[] all = Files.readAllBytes(image);
        long n = 0;
        for (int off = 0; off < all.length; off += TestData.CHUNK) {
            int end = Math.min(all.length, off + TestData.CHUNK);
            for (int i = off; i < end; i++) {
                if (all[i] != 0) {
                    n += end - off;
                    break;
                }
            }
        }
        return n;
    }

    static long fileBytes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    @Order(1)
    void statsCountStoredAndLogicalBytesAndPoints() throws Exception {
        try (TransportClient op = client(OPERATOR)) {
            RepositoryStats empty = op.stats();
            assertThat(empty.storedBytes()).isZero();
            assertThat(empty.logicalBytes()).isZero();
            assertThat(empty.dedupRatio()).isEqualTo(1.0);
            assertThat(empty.restorePoints()).isZero();
            assertThat(empty.guardTrustedNow()).isEmpty();
            assertThat(empty.clockWarning()).isEmpty();
        }
        // 9 chunks, two of them zero, the last one 512 bytes short
        Path image = TestData.image(dir.resolve("a.img"), 9, TestData.CHUNK, 7, 512);
        try (TransportClient a = client(NODE_A)) {
            TestData.backup(a, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
            TestData.backup(a, codec, "node-a", "p2", image, Optional.empty(), Optional.empty());
            assertThatThrownBy(a::stats).isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("node:node-a may not read repository statistics; only the operator may")
                    .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(Reason.FORBIDDEN);
            assertThat(a.listPoints(Optional.of("node-a"))).hasSize(2); // the connection still serves
        }
        long perPoint = nonZeroBytes(image);
        assertThat(perPoint).isEqualTo(6L * TestData.CHUNK + TestData.CHUNK - 512);
        try (TransportClient op = client(OPERATOR)) {
            RepositoryStats s = op.stats();
            assertThat(s.restorePoints()).isEqualTo(2);
            assertThat(s.sealedPoints()).isZero();
            assertThat(s.storedBytes()).isEqualTo(fileBytes(layout.incomingChunks())).isPositive();
            assertThat(s.logicalBytes()).isEqualTo(2 * perPoint).isGreaterThan(s.storedBytes());
            assertThat(s.dedupRatio()).isEqualTo((double) s.logicalBytes() / s.storedBytes()).isGreaterThan(1.0);
            assertThat(s.capacityBytes()).isPositive();
            assertThat(s.usedBytes()).isBetween(0L, s.capacityBytes());
            assertThat(s.freeBytes()).isBetween(0L, s.capacityBytes());
            assertThat(s.lockDays()).isZero();
        }
    }

    @Test
    @Order(2)
    void guardStatusAndClockWarningAreReported() throws Exception {
        assumeTrue(linux.effectiveUid() == 0, "SKIPPED: the guard must run as root to lock what it seals");
        FakeClockSources sources = new FakeClockSources();
        GuardConfig config = new GuardConfig(layout.root(), 3, 0, 1000, 3600, 3600, 86400, 60, 3600, 86400);
        Files.createDirectories(layout.guardState());
        TrustedClock clock = new TrustedClock(layout.guardState().resolve("clock.properties"), sources,
                System.getLogger("test"));
        clock.start(config);
        Guard guard = new Guard(layout, linux, clock, System.getLogger("test"));
        guard.prepare();
        assertThat(guard.cycle(config).pointsSealed()).isEqualTo(2);
        sources.wall += 400L * 86_400_000; // someone sets the system clock 400 days ahead
        sources.advance(1000);
        guard.cycle(config);
        assertThat(clock.lastWarning()).contains("off the trusted clock");
        assertThat(clock.frozen()).isPresent();

        try (TransportClient op = client(OPERATOR)) {
            RepositoryStats s = op.stats();
            assertThat(s.restorePoints()).isEqualTo(2);
            assertThat(s.sealedPoints()).isEqualTo(2);
            assertThat(s.guardTrustedNow()).contains(Instant.ofEpochMilli(clock.nowMillis()));
            assertThat(s.lockDays()).isEqualTo(3);
            assertThat(s.clockWarning()).contains(clock.lastWarning());
            assertThat(s.clockFrozen()).hasValueSatisfying(f -> assertThat(f).contains("off the trusted clock"));
            // the guard moved the chunks into the store: same bytes, counted once
            assertThat(s.storedBytes()).isEqualTo(fileBytes(layout.storeChunks()) + fileBytes(layout.incomingChunks()));
            // a transport starting on this repository counts the same from its directory scan
            RepositoryStore fresh = new RepositoryStore(layout, LIMITS);
            fresh.open();
            RepositoryStats local = fresh.stats();
            assertThat(List.of(local.storedBytes(), local.logicalBytes(), local.restorePoints(), local.sealedPoints()))
                    .containsExactly(s.storedBytes(), s.logicalBytes(), s.restorePoints(), s.sealedPoints());
        }
    }
}
