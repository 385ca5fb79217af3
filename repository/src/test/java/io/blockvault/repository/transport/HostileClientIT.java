package io.blockvault.repository.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.it.Host;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of the issue against the transport on XFS (unauthenticated slow-handshake floods, lease
 * flooding by a node, malformed strings), kept as regression tests. A real TLS server on loopback;
 * floods come from other loopback addresses (Linux routes all of 127/8 to lo).
 */
class HostileClientIT {

    static final String NODE_A = "aaaaaaaaaaaaaaaa-node-a-token";
    static final String NODE_B = "bbbbbbbbbbbbbbbb-node-b-token";
    static final String LONG_NODE_TOKEN = "llllllllllllllll-long-node-token";
    static final String OPERATOR = "oooooooooooooooo-operator-token";
    /** The longest valid node name (a DNS subdomain, as Kubernetes allows): 253 characters. */
    static final String LONG_NODE = "l" + "o".repeat(251) + "g";
    static final int CHUNK = 1 << 20;

    @TempDir
    Path dir;
    TestTls certs;
    SSLContext clientTls;
    TransportServer server;
    RepositoryStore store;
    final CountingLog log = new CountingLog();
    final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        Collections.reverse(cleanup);
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    private void start(Path repo, TransportConfig config, StoreLimits limits) throws Exception {
        certs = TestTls.create(dir.resolve("tls"));
        clientTls = Tls.client(certs.caCert());
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, NODE_A + " node:node-a\n" + NODE_B + " node:node-b\n" + LONG_NODE_TOKEN + " node:"
                + LONG_NODE + "\n" + OPERATOR + " operator\n");
        store = new RepositoryStore(new RepositoryLayout(repo), limits);
        store.open();
        server = new TransportServer(config, Tls.server(certs.serverCert(), certs.serverKey()),
                new FileTokenAuthenticator(tokens, Clock.systemUTC(), false), store, log);
        server.start();
        cleanup.add(server);
    }

    private TransportClient.Endpoint endpoint(String token) {
        return new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, token);
    }

    // ---------------------------------------------------------------- unauthenticated floods

    @Test
    void aSlowHandshakeFloodFromElsewhereLeavesBackupsAtSpeedAndTheLogQuiet() throws Exception {
        TransportConfig config = TransportConfig.defaults(InetAddress.getLoopbackAddress(), 0);
        config = new TransportConfig(config.bindAddress(), 0, config.maxFrameBytes(), config.maxConnections(),
                config.maxConnectionsPerIdentity(), 3000, config.idleTimeoutMillis(), config.maxIndexBytes(),
                config.maxUnauthenticated(), config.maxUnauthenticatedPerAddress());
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        Path image = randomImage(dir.resolve("dev.img"), 64);

        backupMBps(image, "warm-up"); // JIT and page cache, so the first measured run is not the slowest
        List<Double> unloaded = new ArrayList<>();
        for (int run = 0; run < 3; run++) {
            unloaded.add(backupMBps(image, "u" + run));
        }
        long floodStart = System.nanoTime();
        int linesBefore = log.lines.size();
        List<Double> loaded = new ArrayList<>();
        try (SlowHandshakeFlood flood = new SlowHandshakeFlood(InetAddress.getByName("127.0.0.2"), server.port(),
                clientHello(), 300)) {
            Thread.sleep(5000); // every flood connection has connected, been refused or timed out at least once
            assertThat(server.unauthenticatedConnections()).isLessThanOrEqualTo(config.maxUnauthenticatedPerAddress());
            for (int run = 0; run < 3; run++) {
                loaded.add(backupMBps(image, "f" + run));
            }
            // run the flood long enough that the rate limit, not the test's length, bounds the log
            long left = 25_000 - (System.nanoTime() - floodStart) / 1_000_000;
            if (left > 0) {
                Thread.sleep(left);
            }
            assertThat(server.unauthenticatedConnections()).isLessThanOrEqualTo(config.maxUnauthenticatedPerAddress());
            double seconds = (System.nanoTime() - floodStart) / 1e9;
            List<String> lines = log.lines.subList(linesBefore, log.lines.size());
            // DEBUG lines are off in production; everything a flood can make the transport log above that counts
            List<String> refusals = lines.stream().filter(l -> l.contains("from /127.0.0.2"))
                    .filter(l -> !l.startsWith("DEBUG")).toList();
            long suppressed = refusals.stream().mapToLong(HostileClientIT::suppressed).sum();
            long kinds = refusals.stream().map(HostileClientIT::kind).distinct().count();
            double unloadedMedian = median(unloaded);
            double loadedMedian = median(loaded);
            System.out.printf("slow-handshake flood: unloaded %s MB/s (median %.1f), under flood %s MB/s (median %.1f);"
                    + " flood %d connections made, %d attempts ended by the server in %.0f s; %d log lines (%d kinds), %d "
                    + "suppressed%n", unloaded, unloadedMedian, loaded, loadedMedian, flood.connects.get(),
                    flood.closed.get(), seconds, refusals.size(), kinds, suppressed);
            assertThat(flood.closed.get()).as("the server refused or timed out flood connections").isGreaterThan(1000);
            assertThat(loadedMedian).as("backup throughput under the flood").isGreaterThanOrEqualTo(unloadedMedian / 2);
            // at most one line per kind and 10 s (plus the first of each kind), the rest counted
            assertThat((long) refusals.size()).isLessThanOrEqualTo(kinds * ((long) (seconds / 10) + 2));
            assertThat(refusals).anyMatch(l -> l.contains("refused: 16 connections from this address"));
            assertThat(refusals).anyMatch(l -> l.contains("did not finish within 3000 ms"));
            assertThat(suppressed).as("refusals counted, not logged").isGreaterThan(1000);
        }
    }

    @Test
    void aFloodFromTheClientsOwnAddressCannotTakeAuthenticatedSlots() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 4, 4, 2000, 60_000,
                1 << 20, 8, 4);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        Path image = TestData.image(dir.resolve("small.img"), 8, TestData.CHUNK, 7, 0);
        ChunkCodec codec = TestData.codec(false);
        try (TransportClient a = TransportClient.connect(endpoint(NODE_A));
                SlowHandshakeFlood flood = new SlowHandshakeFlood(InetAddress.getByName("127.0.0.1"), server.port(),
                        clientHello(), 100)) {
            Thread.sleep(4000); // past two handshake deadlines: the flood has cycled through its slots
            assertThat(server.unauthenticatedConnections()).isLessThanOrEqualTo(4);
            for (int i = 0; i < 3; i++) {
                RestorePointIndex idx = TestData.backup(a, codec, "node-a", "same" + i, image, Optional.empty(),
                        Optional.empty());
                assertThat(a.readPoint(new io.blockvault.repository.client.PointRef("node-a", "same" + i)))
                        .isEqualTo(idx);
                Thread.sleep(500);
            }
            // another address still has its own unauthenticated slots
            try (SSLSocket s = helloFrom(InetAddress.getByName("127.0.0.3"), NODE_B)) {
                assertThat(s.isConnected()).isTrue();
            }
            assertThat(flood.closed.get()).isGreaterThan(50);
        }
    }

    // ---------------------------------------------------------------- lease flooding by a node

    @Test
    void duplicateIdsAreLeasedOnceAndLeasesHaveABudget() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000).withLeaseLimits(64 << 10,
                1000));
        Path image = TestData.image(dir.resolve("small.img"), 4, TestData.CHUNK, 8, 0);
        RestorePointIndex idx;
        try (TransportClient b = TransportClient.connect(endpoint(NODE_B))) {
            idx = TestData.backup(b, TestData.codec(false), "node-b", "p1", image, Optional.empty(), Optional.empty());
        }
        ChunkId stored = idx.chunks().get(0);
        try (SSLSocket s = helloFrom(InetAddress.getLoopbackAddress(), NODE_A)) {
            List<ChunkId> repeated = Collections.nCopies(30_000, stored);
            assertThat(lack(s, "node-a", "s1", repeated)).isEqualTo("missing 0");
            Path leases = store.layout().leases().resolve("node-a");
            assertThat(leaseFiles(leases)).hasSize(1);
            assertThat(Files.size(leaseFiles(leases).get(0))).isEqualTo(ChunkId.LENGTH);
            // each lease file costs a block; 64 KiB hold 16
            String answer;
            int granted = 0;
            while ((answer = lack(s, "node-a", "s" + (granted + 2), List.of(stored))).startsWith("missing")
                    && granted < 100) {
                granted++;
            }
            assertThat(answer).startsWith("QUOTA_EXCEEDED").contains("--max-lease-bytes-per-node");
            assertThat(granted).isEqualTo(15);
            assertThat(leaseFiles(leases)).hasSize(16);
            // refused, not broken: the connection still answers
            assertThat(lack(s, "node-a", "s1", List.of(ChunkId.parse("77".repeat(32))))).isEqualTo("missing 1");
        }
    }

    @Test
    void aNodeCannotFillTheFilesystemWithLeasesNorPassItsQuota() throws Exception {
        Host.requireRoot();
        Path mnt = Files.createDirectory(dir.resolve("tmpfs"));
        Host.ok("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt.toString());
        cleanup.add(() -> Host.run(List.of("umount", "-l", mnt.toString())));
        long quota = 12L << 20;
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(mnt.resolve("repo"), config, new StoreLimits(quota, 1000, 8L << 20, 3600_000).withLeaseLimits(1L << 40,
                1 << 30));
        Path image = TestData.image(dir.resolve("dev.img"), 64, TestData.CHUNK, 9, 0);
        RestorePointIndex idx;
        try (TransportClient a = TransportClient.connect(endpoint(NODE_A))) {
            idx = TestData.backup(a, TestData.codec(false), "node-a", "p1", image, Optional.empty(), Optional.empty());
        }
        List<ChunkId> ids = idx.chunks().stream().filter(id -> !id.isZero()).distinct().toList();
        String answer = floodLeases(ids, 10_000);
        assertThat(answer).startsWith("QUOTA_EXCEEDED").contains("node node-a uses").contains("--node-quota-bytes");
        assertThat(leaseBytes(store.layout().leases().resolve("node-a"))).isLessThanOrEqualTo(quota);
        // node B still backs up, and still can after A's leases are dropped by its commit
        Path other = TestData.image(dir.resolve("other.img"), 32, TestData.CHUNK, 10, 0);
        try (TransportClient b = TransportClient.connect(endpoint(NODE_B))) {
            assertThat(TestData.backup(b, TestData.codec(false), "node-b", "q1", other, Optional.empty(),
                    Optional.empty()).stats().newChunks()).isPositive();
        }

        // without a quota, the free-space reserve stops it
        server.close();
        long free = Files.getFileStore(mnt).getUsableSpace();
        long reserve = free - (2L << 20);
        start(mnt.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, reserve, 3600_000).withLeaseLimits(
                1L << 40, 1 << 30));
        answer = floodLeases(ids, 10_000);
        assertThat(answer).startsWith("QUOTA_EXCEEDED").contains("keeps a reserve of " + reserve);
        assertThat(Files.getFileStore(mnt).getUsableSpace()).isGreaterThanOrEqualTo(reserve - (64 << 10));
        System.out.printf("lease flood on tmpfs: stopped by quota and by the reserve; free %d bytes, reserve %d%n",
                Files.getFileStore(mnt).getUsableSpace(), reserve);
    }

    /** Node A repeats lack checks of stored ids, one session each, until refused; returns the refusal. */
    private String floodLeases(List<ChunkId> ids, int max) throws Exception {
        try (SSLSocket s = helloFrom(InetAddress.getLoopbackAddress(), NODE_A)) {
            for (int i = 0; i < max; i++) {
                String answer = lack(s, "node-a", "flood" + i, ids);
                if (!answer.startsWith("missing")) {
                    return answer;
                }
            }
        }
        return "never refused";
    }

    // ---------------------------------------------------------------- malformed strings

    @Test
    void aStringThatIsNotModifiedUtf8IsAnInvalidRequest() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        try (SSLSocket s = helloFrom(InetAddress.getLoopbackAddress(), NODE_A)) {
            DataOutputStream o = new DataOutputStream(s.getOutputStream());
            for (int type : new int[] {Protocol.LACK, Protocol.LIST, Protocol.READ_POINT, Protocol.COMMIT}) {
                byte[] bad = {(byte) 0xff, 'x'};
                o.writeInt(1 + 2 + bad.length);
                o.writeByte(type);
                o.writeShort(bad.length);
                o.write(bad);
                o.flush();
                assertThat(reply(s)).startsWith("INVALID_REQUEST").contains("not valid modified UTF-8");
            }
            assertThat(lack(s, "node-a", "s1", List.of())).isEqualTo("missing 0");
        }
    }

    // ---------------------------------------------------------------- memory amplification

    /**
     * Found by ProtocolFuzzIT (seed 2, case 18): an index is parsed after its bytes are staged, and the
     * parser sized its id list by the count the index announces (up to 16 Mi) before any id arrived:
     * a 256-byte commit made the server allocate 64 MiB, so a few dozen connections could exhaust the
     * heap. Now it costs what the index carries.
     */
    @Test
    void anIndexThatPromisesManyChunksCostsOnlyWhatItCarries() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.write(new byte[] {'B', 'V', 'I', 'X'});
        d.writeShort(1);
        d.writeUTF("huge");
        d.writeUTF("node-a");
        d.writeUTF("/dev/disk/by-id/huge");
        d.writeLong(4096L << 24);
        d.writeInt(4096);
        d.writeUTF("gen");
        d.writeLong(1);
        d.writeUTF("");
        d.writeLong(1);
        d.writeLong(2);
        d.writeInt(0);
        for (int i = 0; i < 5; i++) {
            d.writeLong(0);
        }
        d.writeInt(16 << 20); // IndexCodec.MAX_CHUNKS, and no ids follow
        d.write(new byte[64]);
        byte[] index = b.toByteArray();
        try (SSLSocket s = helloFrom(InetAddress.getLoopbackAddress(), NODE_A)) {
            long before = transportAllocatedBytes();
            DataOutputStream o = new DataOutputStream(s.getOutputStream());
            java.io.ByteArrayOutputStream c = new java.io.ByteArrayOutputStream();
            DataOutputStream cd = new DataOutputStream(c);
            cd.writeUTF("s1");
            cd.writeInt(index.length);
            o.writeInt(1 + c.size());
            o.writeByte(Protocol.COMMIT);
            o.write(c.toByteArray());
            o.writeInt(1 + index.length);
            o.writeByte(Protocol.COMMIT_PART);
            o.write(index);
            o.flush();
            assertThat(reply(s)).startsWith("INVALID_REQUEST").contains("truncated");
            long allocated = transportAllocatedBytes() - before;
            System.out.printf("a %d-byte index announcing 16 Mi chunks: the server allocated %d bytes%n", index.length,
                    allocated);
            assertThat(allocated).as("bytes the server allocated for a %d-byte commit", index.length)
                    .isLessThan(16L << 20);
            assertThat(lack(s, "node-a", "s1", List.of())).isEqualTo("missing 0");
        }
    }

    /**
     * Found by bench/repository-fuzz (seed 20261206, case 4660): every LIST parsed every index it
     * listed, ids and all, so a node holding a few large indexes made the server read and allocate
     * all of them again for each 10-byte LIST. Indexes never change: a listing reads each once.
     */
    @Test
    void aListingDoesNotReparseLargeIndexesEachTime() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, Protocol.DEFAULT_MAX_FRAME, 16,
                8, 5000, 30_000, 4 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        byte[] idBytes = new byte[ChunkId.LENGTH];
        idBytes[0] = 7;
        ChunkId id = ChunkId.of(idBytes);
        byte[] stored = new io.blockvault.repository.format.TestChunks(new byte[4096]).stored(id);
        int points = 8;
        int ids = 1 << 16; // a 2 MiB index: one chunk, repeated, as a device of identical blocks would be
        try (TransportClient a = TransportClient.connect(endpoint(NODE_A))) {
            a.putChunk("node-a", id, stored, stored.length);
            for (int i = 0; i < points; i++) {
                a.commit(new RestorePointIndex("big" + i, "node-a", new DeviceIdentity("/dev/disk/by-id/big",
                        (long) ids * 4096), 4096, new ChangeId("gen", i), Optional.empty(), 1, 2, 0,
                        io.blockvault.repository.format.PointStats.EMPTY, Collections.nCopies(ids, id)), "s" + i);
            }
            assertThat(a.listPoints(Optional.of("node-a"))).hasSize(points); // the first listing reads them
            long before = transportAllocatedBytes();
            for (int i = 0; i < 5; i++) {
                assertThat(a.listPoints(Optional.of("node-a"))).hasSize(points);
            }
            long perListing = (transportAllocatedBytes() - before) / 5;
            System.out.printf("LIST of %d points with %d ids each: the server allocated %d bytes per listing%n", points,
                    ids, perListing);
            assertThat(perListing).as("bytes allocated per LIST of %d indexes of 2 MiB", points)
                    .isLessThan(4L << 20);
        }
    }

    /** What the transport's connection threads have allocated so far. */
    private static long transportAllocatedBytes() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean)
                java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("transport-connection")) {
                sum += mx.getThreadAllocatedBytes(t.getId());
            }
        }
        return sum;
    }

    // ---------------------------------------------------------------- names at their limits

    /**
     * Found by ProtocolFuzzIT (seed 1, case 2): the usage file's temp name was the node name plus a
     * suffix, past the 255-byte limit of a file name for a 253-character node. Every new chunk and
     * commit of such a node was INTERNAL, and its restore point was published without being charged.
     */
    @Test
    void aNodeWithTheLongestValidNameIsServedAndCharged() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        Path image = TestData.image(dir.resolve("small.img"), 6, TestData.CHUNK, 11, 0);
        RestorePointIndex idx;
        try (TransportClient c = TransportClient.connect(endpoint(LONG_NODE_TOKEN))) {
            idx = TestData.backup(c, TestData.codec(false), LONG_NODE, "p1", image, Optional.empty(), Optional.empty());
            assertThat(c.readPoint(new io.blockvault.repository.client.PointRef(LONG_NODE, "p1"))).isEqualTo(idx);
        }
        long chunkBytes = 0;
        try (Stream<Path> s = Files.list(store.layout().incomingChunks())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                chunkBytes += Files.size(p);
            }
        }
        long indexBlocks = (Files.size(store.layout().incomingPoint(LONG_NODE, "p1")) + 4095) / 4096 * 4096;
        long charged = Long.parseLong(Files.readString(store.layout().usage().resolve(LONG_NODE)).trim());
        assertThat(charged).isEqualTo(chunkBytes + indexBlocks).isEqualTo(store.nodeUsage(LONG_NODE).storedBytes());
        assertThat(log.lines).noneMatch(l -> l.contains("File name too long"));
    }

    /**
     * Same defect, found while fixing the one above: a deletion request was a file named after node
     * and point id, which together (253 + 128 characters) cannot be a file name, so the operator's
     * DELETE of such a point failed as INTERNAL.
     */
    @Test
    void theOperatorCanRequestDeletionOfAPointWithTheLongestNames() throws Exception {
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, 1 << 20, 16, 8, 5000, 30_000,
                1 << 20);
        start(dir.resolve("repo"), config, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        String pointId = "p" + "x".repeat(127);
        Path image = TestData.image(dir.resolve("small.img"), 2, TestData.CHUNK, 12, 0);
        try (TransportClient c = TransportClient.connect(endpoint(LONG_NODE_TOKEN))) {
            TestData.backup(c, TestData.codec(false), LONG_NODE, pointId, image, Optional.empty(), Optional.empty());
        }
        // what the guard leaves once the lock has expired: the sealed copy with a past locked-until
        Path sealed = store.layout().storePoint(LONG_NODE, pointId);
        Files.createDirectories(sealed.getParent());
        Files.copy(store.layout().incomingPoint(LONG_NODE, pointId), sealed);
        io.blockvault.repository.store.LockAttributes.setLockedUntil(sealed, System.currentTimeMillis() - 60_000);
        Files.writeString(store.layout().guardStatus(), new io.blockvault.repository.store.GuardStatus(
                System.currentTimeMillis(), System.currentTimeMillis(), 1, "", 0, "").toProperties());
        try (TransportClient op = TransportClient.connect(endpoint(OPERATOR))) {
            op.requestDelete(new io.blockvault.repository.client.PointRef(LONG_NODE, pointId));
            // asked twice, one request
            op.requestDelete(new io.blockvault.repository.client.PointRef(LONG_NODE, pointId));
        }
        List<Path> requests;
        try (Stream<Path> s = Files.list(store.layout().requests())) {
            requests = s.toList();
        }
        assertThat(requests).hasSize(1);
        assertThat(Files.readString(requests.get(0))).isEqualTo(LONG_NODE + "\n" + pointId + "\n");
    }

    // ---------------------------------------------------------------- helpers

    /** A backup of {@code image} in 1 MiB chunks through a pool of 4 connections, with fresh ids; MB/s. */
    private double backupMBps(Path image, String pointId) throws Exception {
        byte[] idKey = new byte[32];
        new Random(pointId.hashCode()).nextBytes(idKey);
        ChunkCodec codec = new ChunkCodec(new ChunkKeys(idKey, Optional.empty()));
        ExecutorService workers = Executors.newFixedThreadPool(2);
        try (ConnectionPool pool = ConnectionPool.of(endpoint(NODE_A), 4);
                FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            long t0 = System.nanoTime();
            BackupRequest req = new BackupRequest("node-a", pointId, new DeviceIdentity("/dev/disk/by-id/flood",
                    ch.size()), CHUNK, new ChangeId("gen", 1), Optional.empty(), Optional.empty());
            RestorePointIndex idx = new BackupWriter(pool, codec, workers, 8).backup(req, ch);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(idx.stats().newChunks()).isEqualTo(ch.size() / CHUNK);
            return Math.round(ch.size() / 1e6 / seconds * 10) / 10.0;
        } finally {
            workers.shutdownNow();
        }
    }

    private static Path randomImage(Path file, int mib) throws IOException {
        Random r = new Random(42);
        byte[] b = new byte[1 << 20];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < mib; i++) {
                r.nextBytes(b);
                ch.write(ByteBuffer.wrap(b));
            }
        }
        return file;
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    /** The bytes of a real TLS 1.3 ClientHello for this server, to trickle. */
    private byte[] clientHello() throws Exception {
        SSLEngine e = clientTls.createSSLEngine("127.0.0.1", server.port());
        e.setUseClientMode(true);
        e.beginHandshake();
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        assertThat(hello[0]).as("a handshake record").isEqualTo((byte) 22);
        return hello;
    }

    /** A TLS connection from {@code from} that has sent HELLO with {@code token} and read WELCOME. */
    private SSLSocket helloFrom(InetAddress from, String token) throws IOException {
        SSLSocket s = (SSLSocket) clientTls.getSocketFactory().createSocket(InetAddress.getByName("127.0.0.1"),
                server.port(), from, 0);
        s.setSoTimeout(20_000);
        s.setTcpNoDelay(true); // one small request per round trip: Nagle would add 40 ms to each
        s.startHandshake();
        DataOutputStream o = new DataOutputStream(s.getOutputStream());
        byte[] hello = {'B', 'V', 'R', 'P', 0, (byte) Protocol.VERSION};
        o.writeInt(1 + hello.length + 2 + token.length());
        o.writeByte(Protocol.HELLO);
        o.write(hello);
        o.writeUTF(token);
        o.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        int len = in.readInt();
        assertThat(in.readUnsignedByte()).isEqualTo(Protocol.WELCOME);
        in.readNBytes(len - 1);
        return s;
    }

    /** Sends LACK; "missing N" or "REASON: message". */
    private static String lack(SSLSocket s, String node, String session, List<ChunkId> ids) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeUTF(node);
        d.writeUTF(session);
        d.writeInt(ids.size());
        for (ChunkId id : ids) {
            d.write(id.bytes());
        }
        DataOutputStream o = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16));
        o.writeInt(1 + b.size());
        o.writeByte(Protocol.LACK);
        o.write(b.toByteArray());
        o.flush();
        return reply(s);
    }

    private static String reply(SSLSocket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        int len = in.readInt();
        int type = in.readUnsignedByte();
        DataInputStream p = new DataInputStream(new ByteArrayInputStream(in.readNBytes(len - 1)));
        if (type == Protocol.LACK_REPLY) {
            return "missing " + p.readInt();
        }
        assertThat(type).isEqualTo(Protocol.ERROR);
        Reason reason = Reason.values()[p.readUnsignedByte()];
        return reason + ": " + p.readUTF();
    }

    private static List<Path> leaseFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".lease")).toList();
        }
    }

    private static long leaseBytes(Path dir) throws IOException {
        long n = 0;
        for (Path p : leaseFiles(dir)) {
            n += Files.size(p);
        }
        return n;
    }

    private static final Pattern SUPPRESSED = Pattern.compile("\\((\\d+) similar lines suppressed");

    private static long suppressed(String line) {
        Matcher m = SUPPRESSED.matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static String kind(String line) {
        return line.replaceAll("connection \\d+ from /[0-9.]+:\\d+", "").replaceAll("\\(\\d+ similar.*", "").trim();
    }

    /**
     * Connections from {@code from} that each trickle a ClientHello one byte a second and connect again
     * as soon as the server closes them, as in the attack.
     */
    static final class SlowHandshakeFlood implements AutoCloseable {
        final AtomicLong connects = new AtomicLong();
        final AtomicLong closed = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final List<Socket> open = new CopyOnWriteArrayList<>();

        SlowHandshakeFlood(InetAddress from, int port, byte[] hello, int connections) {
            for (int i = 0; i < connections; i++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try (Socket s = new Socket()) {
                            open.add(s);
                            s.bind(new InetSocketAddress(from, 0));
                            s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 5000);
                            connects.incrementAndGet();
                            OutputStream o = s.getOutputStream();
                            for (int k = 0; running.get(); k++) {
                                o.write(hello[k % hello.length]);
                                o.flush();
                                Thread.sleep(1000);
                            }
                        } catch (IOException e) {
                            closed.incrementAndGet();
                        } catch (InterruptedException e) {
                            return;
                        } finally {
                            open.removeIf(Socket::isClosed);
                        }
                    }
                }, "slow-handshake-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.interrupt();
            }
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            for (Thread t : threads) {
                t.join(5000);
            }
        }
    }

    /** Records every line the transport logs (and prints none below WARNING). */
    static final class CountingLog implements System.Logger {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String getName() {
            return "hostile";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(level + " " + msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(level + " " + (params == null ? format : java.text.MessageFormat.format(format, params)));
        }
    }
}
