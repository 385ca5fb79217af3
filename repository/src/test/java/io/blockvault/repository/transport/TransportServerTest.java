package io.blockvault.repository.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransportServerTest {

    static final String NODE_A = "aaaaaaaaaaaaaaaa-node-a-token";
    static final String NODE_B = "bbbbbbbbbbbbbbbb-node-b-token";
    static final String OPERATOR = "oooooooooooooooo-operator-token";
    static final String EXPIRED = "eeeeeeeeeeeeeeee-expired-token";

    @TempDir
    static Path dir;
    static TestTls certs;
    static RepositoryStore store;
    static TransportServer server;
    static SSLContext clientTls;
    final ChunkCodec codec = TestData.codec(false);

    @BeforeAll
    static void start() throws Exception {
        certs = TestTls.create(dir.resolve("tls"));
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "# test tokens\n" + NODE_A + " node:node-a\n" + NODE_B + " node:node-b\n" + OPERATOR
                + " operator\n" + EXPIRED + " node:node-a expires=" + Instant.now().minusSeconds(60) + "\n");
        store = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")), new StoreLimits(Long.MAX_VALUE, 1000, 0,
                3600_000));
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
    }

    static TransportClient client(String token) throws IOException {
        return TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, token));
    }

    private void assertServerStillServes() throws IOException {
        try (TransportClient c = client(NODE_B)) {
            assertThat(c.identity()).isEqualTo("node:node-b");
            assertThat(c.listPoints(Optional.of("node-b"))).isNotNull();
        }
    }

    @Test
    void backupAndRestoreOverTls() throws Exception {
        Path image = TestData.image(dir.resolve("a.img"), 9, TestData.CHUNK, 10, 512);
        try (TransportClient c = client(NODE_A)) {
            assertThat(c.identity()).isEqualTo("node:node-a");
            RestorePointIndex idx = TestData.backup(c, codec, "node-a", "t1", image, Optional.empty(), Optional.empty());
            assertThat(idx.stats().newChunks()).isPositive();
            RestorePointIndex again = TestData.backup(c, codec, "node-a", "t2", image, Optional.empty(), Optional.empty());
            assertThat(again.stats().sentBytes()).isZero();
            Path out = dir.resolve("a.out");
            try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                new RestoreReader(c, codec, 3).restore(new PointRef("node-a", "t1"), ch, false);
            }
            assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(image));
            assertThat(c.readPoint(new PointRef("node-a", "t2"))).isEqualTo(again);
            assertThat(c.listPoints(Optional.of("node-a"))).extracting(p -> p.ref().pointId()).contains("t1", "t2");
        }
    }

    @Test
    void theTrustedNameCanDifferFromTheAddressDialled() throws Exception {
        TransportClient.Endpoint viaLoopback = new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, NODE_A);
        try (TransportClient c = TransportClient.connect(viaLoopback.withServerName("localhost"))) {
            assertThat(c.identity()).isEqualTo("node:node-a");
        }
        assertThatThrownBy(() -> TransportClient.connect(viaLoopback.withServerName("repository.elsewhere.example")))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        assertServerStillServes();
    }

    @Test
    void wrongAndExpiredTokensAreRefused() throws Exception {
        assertThatThrownBy(() -> client("not-a-known-token-at-all")).isInstanceOf(RepositoryException.class)
                .hasMessageContaining("not known").extracting(e -> ((RepositoryException) e).reason())
                .isEqualTo(Reason.UNAUTHENTICATED);
        assertThatThrownBy(() -> client(EXPIRED)).isInstanceOf(RepositoryException.class)
                .hasMessageContaining("expired");
        assertServerStillServes();
    }

    @Test
    void nodesAndOperatorAreConfinedToTheirRights() throws Exception {
        Path image = TestData.image(dir.resolve("b.img"), 3, TestData.CHUNK, 11, 0);
        try (TransportClient a = client(NODE_A)) {
            TestData.backup(a, codec, "node-a", "r1", image, Optional.empty(), Optional.empty());
        }
        PointRef ref = new PointRef("node-a", "r1");
        try (TransportClient b = client(NODE_B)) {
            assertThatThrownBy(() -> b.readPoint(ref)).hasMessageContaining("may not access")
                    .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(Reason.FORBIDDEN);
            assertThatThrownBy(() -> b.readChunks(ref, 0, 1, (i, id, s, l) -> { })).hasMessageContaining("may not");
            assertThatThrownBy(() -> b.listPoints(Optional.of("node-a"))).hasMessageContaining("may not");
            assertThatThrownBy(() -> b.listPoints(Optional.empty())).hasMessageContaining("only the operator");
            assertThatThrownBy(() -> TestData.backup(b, codec, "node-a", "evil", image, Optional.empty(),
                    Optional.empty())).hasMessageContaining("may not");
            assertThatThrownBy(() -> b.requestDelete(ref)).hasMessageContaining("only the operator");
            // the connection is still usable after refusals
            assertThat(b.listPoints(Optional.of("node-b"))).isNotNull();
        }
        try (TransportClient op = client(OPERATOR)) {
            assertThat(op.listPoints(Optional.empty())).extracting(p -> p.ref()).contains(ref);
            assertThatThrownBy(() -> op.readPoint(ref)).hasMessageContaining("may not");
            assertThat(op.verify(List.of(ref)).healthy()).isTrue();
            assertThatThrownBy(() -> op.putChunk("node-a", ChunkId.ZERO, new byte[10], 10))
                    .hasMessageContaining("may not");
        }
    }

    /** Opens a TLS connection without the client library, to send arbitrary bytes. */
    private SSLSocket raw() throws IOException {
        SSLSocket s = (SSLSocket) clientTls.getSocketFactory().createSocket("127.0.0.1", server.port());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static String readError(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int len = d.readInt();
        assertThat(d.readUnsignedByte()).isEqualTo(Protocol.ERROR);
        byte[] payload = d.readNBytes(len - 1);
        DataInputStream p = new DataInputStream(new java.io.ByteArrayInputStream(payload));
        Reason reason = Reason.values()[p.readUnsignedByte()];
        return reason + ": " + p.readUTF();
    }

    @Test
    void oversizedFramesAndGarbageAreRefused() throws Exception {
        try (SSLSocket s = raw()) {
            new DataOutputStream(s.getOutputStream()).writeInt(0x7fff_ffff);
            assertThat(readError(s.getInputStream())).startsWith("PROTOCOL").contains("limit");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        try (SSLSocket s = raw()) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertThat(readError(s.getInputStream())).startsWith("PROTOCOL");
        }
        try (TransportClient a = client(NODE_A)) {
            // authenticated, then a frame larger than the announced limit
            assertThatThrownBy(() -> a.putChunk("node-a", ChunkId.parse("11".repeat(32)), new byte[2 << 20], 2 << 20))
                    .isInstanceOf(IOException.class);
        }
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.setSoTimeout(10_000);
            OutputStream o = plain.getOutputStream();
            byte[] junk = new byte[4096];
            new java.util.Random(5).nextBytes(junk);
            o.write(junk);
            o.flush();
            InputStream in = plain.getInputStream();
            // the server ends the TLS handshake with an alert or a close; it never answers the junk
            assertThat(in.readNBytes(64).length).isLessThan(64);
        }
        try (SSLSocket s = raw()) {
            DataOutputStream o = new DataOutputStream(s.getOutputStream());
            byte[] hello = {'B', 'V', 'R', 'P', 0, 1};
            o.writeInt(1 + hello.length + 2 + NODE_A.length());
            o.writeByte(Protocol.HELLO);
            o.write(hello);
            o.writeUTF(NODE_A);
            o.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int len = in.readInt();
            assertThat(in.readUnsignedByte()).isEqualTo(Protocol.WELCOME);
            in.readNBytes(len - 1);
            o.writeInt(5);
            o.writeByte(Protocol.LACK);
            o.writeInt(12345); // truncated LACK request: refused, connection stays
            o.flush();
            assertThat(readError(in)).startsWith("INVALID_REQUEST");
            o.writeInt(1);
            o.writeByte(99);
            o.flush();
            assertThat(readError(in)).startsWith("PROTOCOL").contains("unknown request type");
        }
        assertServerStillServes();
    }

    @Test
    void tls12IsRefused() throws Exception {
        SSLSocket s = (SSLSocket) clientTls.getSocketFactory().createSocket("127.0.0.1", server.port());
        s.setEnabledProtocols(new String[] {"TLSv1.2"});
        assertThatThrownBy(s::startHandshake).isInstanceOf(javax.net.ssl.SSLException.class);
        s.close();
        assertServerStillServes();
    }

    /** A repository whose connection dies after a number of uploads, like a dropped network. */
    private static Repository dropping(TransportClient c, int afterPuts) {
        AtomicInteger puts = new AtomicInteger();
        return new Repository() {
            @Override
            public Set<ChunkId> missingChunks(String n, String s, List<ChunkId> ids) throws IOException {
                return c.missingChunks(n, s, ids);
            }

            @Override
            public boolean putChunk(String n, ChunkId id, byte[] st, int l) throws IOException {
                if (puts.incrementAndGet() > afterPuts) {
                    c.close();
                }
                return c.putChunk(n, id, st, l);
            }

            @Override
            public void commit(RestorePointIndex i, String s) throws IOException {
                c.commit(i, s);
            }

            @Override
            public List<io.blockvault.repository.client.PointSummary> listPoints(Optional<String> n) throws IOException {
                return c.listPoints(n);
            }

            @Override
            public RestorePointIndex readPoint(PointRef p) throws IOException {
                return c.readPoint(p);
            }

            @Override
            public void readChunks(PointRef p, int f, int n, ChunkConsumer k) throws IOException {
                c.readChunks(p, f, n, k);
            }

            @Override
            public Instant requestDelete(PointRef p) throws IOException {
                return c.requestDelete(p);
            }

            @Override
            public io.blockvault.repository.client.VerifyReport verify(List<PointRef> p) throws IOException {
                return c.verify(p);
            }

            @Override
            public void close() throws IOException {
                c.close();
            }
        };
    }

    private static long incomingChunkFiles() throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(store.layout().incomingChunks())) {
            return s.count();
        }
    }

    @Test
    void anInterruptedBackupResumesWithOnlyTheMissingChunks() throws Exception {
        Path image = TestData.image(dir.resolve("c.img"), 16, TestData.CHUNK, 12, 0);
        long before = incomingChunkFiles();
        try (TransportClient c = client(NODE_A)) {
            assertThatThrownBy(() -> TestData.backup(dropping(c, 5), codec, "node-a", "d1", image, Optional.empty(),
                    Optional.empty())).isInstanceOf(IOException.class);
        }
        // the server may still be finishing a chunk it received before the drop: wait until quiet
        long seen = -1;
        while (seen != incomingChunkFiles()) {
            seen = incomingChunkFiles();
            Thread.sleep(300);
        }
        long arrived = seen - before;
        assertThat(arrived).isPositive();
        try (TransportClient c = client(NODE_A)) {
            assertThatThrownBy(() -> c.readPoint(new PointRef("node-a", "d1"))).hasMessageContaining("does not exist");
            RestorePointIndex idx = TestData.backup(c, codec, "node-a", "d1", image, Optional.empty(), Optional.empty());
            assertThat(idx.stats().reusedChunks()).as("chunks the first attempt delivered").isEqualTo(arrived);
            assertThat(idx.stats().newChunks() + idx.stats().reusedChunks() + idx.stats().zeroChunks()).isEqualTo(16);
            assertThat(c.readPoint(new PointRef("node-a", "d1"))).isEqualTo(idx);
        }
    }

    @Test
    void aConnectionPoolUploadsInParallelStreams() throws Exception {
        Path image = TestData.image(dir.resolve("pool.img"), 20, TestData.CHUNK, 13, 0);
        try (io.blockvault.repository.client.ConnectionPool pool = io.blockvault.repository.client.ConnectionPool.of(
                new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, NODE_A), 4)) {
            RestorePointIndex idx = TestData.backup(pool, codec, "node-a", "pool1", image, Optional.empty(),
                    Optional.empty());
            assertThat(idx.stats().newChunks()).isPositive();
            Path out = dir.resolve("pool.out");
            try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                new RestoreReader(pool, codec, 4).restore(new PointRef("node-a", "pool1"), ch, false);
            }
            assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(image));
            assertThatThrownBy(() -> pool.readPoint(new PointRef("node-b", "x"))).hasMessageContaining("may not");
            assertThat(pool.readPoint(new PointRef("node-a", "pool1"))).isEqualTo(idx);
        }
    }
}
