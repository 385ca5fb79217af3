package io.blockvault.repository.transport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * A bounded, seeded protocol fuzzer for the transport: a real {@link TransportServer} with TLS 1.3 on
 * loopback over a real {@link RepositoryStore} in a directory, fed one generated case per connection
 * ({@link FuzzCaseGenerator}). After every case: no INTERNAL answer, no unexpected exception in the
 * server's log or its threads, the connection was closed or answered within a bound, no connection
 * slot or temp file leaked, no node received another node's data, the server did not allocate far
 * more than the traffic, and a node's quota counters match its lease files. Every
 * {@link #CHECK_EVERY} cases and at the end: a legitimate client backs up and restores, only files of
 * the layout exist, the usage files add up to the bytes on disk, and every restore point verifies.
 *
 * <p>Deterministic from the seed: the same seed gives the same cases (the server's timing may differ).
 * A finding names the seed and the case number; {@code main} replays a range of cases.
 */
final class ProtocolFuzzer implements AutoCloseable {

    static final int CHECK_EVERY = 25;
    static final int MAX_FRAME = (1 << 20) + 4096;
    static final long MAX_INDEX = 1 << 20;
    static final int DEADLINE_MILLIS = 3000;
    /** Generous: a loaded 2-core machine must not produce false hangs; a real hang never ends. */
    static final long CLOSE_BOUND_MILLIS = 15_000;
    /** What the server may allocate for a case beyond a multiple of the bytes that crossed the wire. */
    static final long ALLOCATION_SLACK = 32L << 20;

    private final long seed;
    private final FuzzSetup setup;
    private final FuzzWorld world;
    private final FuzzLog log = new FuzzLog();
    private final RepositoryStore store;
    private final TransportServer server;
    private final FuzzCaseRunner runner;
    private final FuzzCaseGenerator generator;
    private final FuzzInvariants invariants;
    private final FuzzProbe probe;
    private final Map<PointRef, byte[]> setupPoints = new LinkedHashMap<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private final Map<String, Long> replyCounts = new TreeMap<>();
    private final List<FuzzFinding> findings = new ArrayList<>();
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private int probeFailures;
    private final java.util.Set<String> firedStateOracles = new java.util.HashSet<>();
    private static final java.util.Set<String> STATE_ORACLES = java.util.Set.of("quota", "layout", "points",
            "temp-file");

    /** Starts a server on a fresh repository in {@code dir} and commits the seed's setup points. */
    ProtocolFuzzer(Path dir, long seed) throws Exception {
        this.seed = seed;
        this.setup = FuzzSetup.plan(seed);
        this.world = setup.world();
        TestTls certs = TestTls.create(dir.resolve("tls"));
        SSLContext clientTls = Tls.client(certs.caCert());
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, setup.tokenFile());
        store = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")), new StoreLimits(64L << 20, 5000, 0,
                DEADLINE_MILLIS).withLeaseLimits(1 << 20, 256));
        store.open();
        TransportConfig config = new TransportConfig(InetAddress.getLoopbackAddress(), 0, MAX_FRAME, 8, 4,
                DEADLINE_MILLIS, DEADLINE_MILLIS, MAX_INDEX, 8, 8);
        server = new TransportServer(config, Tls.server(certs.serverCert(), certs.serverKey()),
                new FileTokenAuthenticator(tokens, Clock.systemUTC(), false), store, log);
        server.start();
        runner = new FuzzCaseRunner(server.port(), clientTls, CLOSE_BOUND_MILLIS, DEADLINE_MILLIS + CLOSE_BOUND_MILLIS);
        generator = new FuzzCaseGenerator(world, MAX_FRAME, MAX_INDEX);
        invariants = new FuzzInvariants(store);
        for (FuzzSetup.SetupPoint p : setup.points()) {
            String node = p.index().node();
            try (TransportClient c = TransportClient.connect(endpoint(clientTls, "node:" + node))) {
                c.missingChunks(node, "setup", p.index().chunks());
                for (Map.Entry<ChunkId, byte[]> e : p.stored().entrySet()) {
                    c.putChunk(node, e.getKey(), e.getValue(), e.getValue().length);
                }
                c.commit(p.index(), "setup");
            }
            setupPoints.put(new PointRef(node, p.index().pointId()), Files.readAllBytes(store.pointFile(
                    new PointRef(node, p.index().pointId())).orElseThrow()));
        }
        probe = new FuzzProbe(endpoint(clientTls, "node:" + world.probeNode()), world.probeNode(), seed,
                world.knownChunks().get(0));
    }

    private TransportClient.Endpoint endpoint(SSLContext tls, String identity) {
        return new TransportClient.Endpoint("127.0.0.1", server.port(), tls, world.token(identity));
    }

    FuzzWorld world() {
        return world;
    }

    FuzzInvariants invariants() {
        return invariants;
    }

    RepositoryStore store() {
        return store;
    }

    /** What a run did. */
    record Report(long seed, double seconds, int cases, List<FuzzFinding> findings, int probes, int probeFailures,
            Map<String, Long> replies, int fuzzedPoints) {
        double casesPerSecond() {
            return seconds == 0 ? 0 : cases / seconds;
        }
    }

    /**
     * Runs cases {@code from}, {@code from + 1}, ... until {@code maxCases} ran or the deadline
     * ({@link System#nanoTime()}) passed, then checks the repository once more.
     */
    Report run(int from, int maxCases, long deadlineNanos) throws Exception {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
        long t0 = System.nanoTime();
        long lastProgress = t0;
        int done = 0;
        int number = from;
        try {
            for (; done < maxCases && System.nanoTime() < deadlineNanos && findings.size() < 100; number++, done++) {
                FuzzCase c = generator.generate(number);
                runCase(c);
                if ((done + 1) % CHECK_EVERY == 0) {
                    checkRepository(c, (done + 1) / CHECK_EVERY % 4 == 0);
                }
                if (System.nanoTime() - lastProgress > 5_000_000_000L) {
                    lastProgress = System.nanoTime();
                    double s = (lastProgress - t0) / 1e9;
                    System.err.printf("fuzz seed %d: %d cases in %.0f s (%.1f/s), %d findings, %d probes%n", seed,
                            done + 1, s, (done + 1) / s, findings.size(), probe.probes());
                }
            }
            FuzzCase last = new FuzzCase(number, FuzzCase.Transport.TLS, Optional.empty(), List.of(),
                    FuzzCase.Ending.HALF_CLOSE, "final check");
            checkRepository(last, true);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Report(seed, seconds, done, List.copyOf(findings), probe.probes(), probeFailures,
                Map.copyOf(replyCounts), fuzzedPoints());
    }

    private void runCase(FuzzCase c) throws Exception {
        int logFrom = log.size();
        Map<Long, Long> allocatedBefore = serverAllocation();
        FuzzCaseRunner.Outcome o = runner.run(c);
        long bound = c.ending() == FuzzCase.Ending.STALL ? DEADLINE_MILLIS + CLOSE_BOUND_MILLIS : CLOSE_BOUND_MILLIS;
        if (o.handshakeFailure() != null) {
            finding(c, "handshake", o.handshakeFailure());
        }
        if (!o.ended()) {
            finding(c, "hang", "the server neither closed the connection nor answered within " + bound + " ms");
        }
        if (o.malformed() != null) {
            finding(c, "malformed-reply", o.malformed());
        }
        checkReplies(c, o);
        awaitIdle(c);
        for (FuzzLog.Line line : log.since(logFrom)) {
            if (line.unexpected()) {
                finding(c, "log", line.level() + " " + line.message() + (line.thrown() == null ? ""
                        : " (" + line.thrown() + ")"));
            }
        }
        for (Throwable t : uncaught) {
            finding(c, "uncaught", t.toString());
        }
        uncaught.clear();
        long allocated = allocatedSince(allocatedBefore);
        long traffic = c.bytes() + o.bytesReceived();
        if (allocated > ALLOCATION_SLACK + 4 * traffic) {
            finding(c, "amplification", "the server allocated " + allocated + " bytes for a case of " + c.bytes()
                    + " bytes sent and " + o.bytesReceived() + " received");
        }
        for (String problem : invariants.tempFiles()) {
            finding(c, "temp-file", problem);
        }
        for (String problem : invariants.quotaViolations(fuzzedNodes())) {
            finding(c, "quota", problem);
        }
    }

    /** Restore points the fuzzed identities managed to commit (how far past the refusals the cases got). */
    private int fuzzedPoints() throws IOException {
        int n = 0;
        for (String node : List.of(world.fuzzNode(), world.longNode())) {
            Path dir = store.layout().incomingPoints().resolve(node);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    n += (int) s.count();
                }
            }
        }
        return n - (int) setupPoints.keySet().stream().filter(p -> p.node().equals(world.fuzzNode())).count();
    }

    private List<String> fuzzedNodes() {
        return List.of(world.fuzzNode(), world.longNode(), world.otherNode(), world.probeNode());
    }

    /** Replies: never INTERNAL; nothing but ERROR without a valid HELLO; no other node's data. */
    private void checkReplies(FuzzCase c, FuzzCaseRunner.Outcome o) {
        Reason[] reasons = Reason.values();
        List<FuzzCaseRunner.Reply> replies = o.replies();
        for (FuzzCaseRunner.Reply reply : replies) {
            String kind = reply.type() == Protocol.ERROR && reply.payload().length > 0
                    ? "ERROR " + ((reply.payload()[0] & 0xff) < reasons.length ? reasons[reply.payload()[0] & 0xff]
                            : "?" + (reply.payload()[0] & 0xff)) : "type " + reply.type();
            replyCounts.merge(kind, 1L, Long::sum);
            if (reply.type() == Protocol.ERROR) {
                int reason = reply.payload().length == 0 ? -1 : reply.payload()[0] & 0xff;
                if (reason < 0 || reason >= reasons.length) {
                    finding(c, "error-reason", "an ERROR with reason " + reason);
                } else if (reasons[reason] == Reason.INTERNAL) {
                    finding(c, "internal", "INTERNAL: " + message(reply));
                }
            }
        }
        if (c.identity().isEmpty()) {
            replies.stream().filter(r -> r.type() != Protocol.ERROR).findFirst().ifPresent(r ->
                    finding(c, "unauthenticated-reply", "a peer without a valid HELLO got a frame of type " + r.type()));
            return;
        }
        String identity = c.identity().get();
        if (!replies.isEmpty() && replies.get(0).type() != Protocol.WELCOME && !busy(replies.get(0))) {
            finding(c, "welcome", identity + " did not get WELCOME first but type " + replies.get(0).type());
        }
        if (identity.equals("operator")) {
            replies.stream().filter(r -> r.type() == Protocol.INDEX_PART || r.type() == Protocol.CHUNK).findFirst()
                    .ifPresent(r -> finding(c, "operator-data", "the operator received restore data (type " + r.type()
                            + ")"));
            return;
        }
        String node = identity.substring("node:".length());
        for (Map.Entry<String, String> marker : world.markers().entrySet()) {
            if (marker.getKey().equals(node)) {
                continue;
            }
            byte[] m = marker.getValue().getBytes(StandardCharsets.US_ASCII);
            for (FuzzCaseRunner.Reply r : replies) {
                if (contains(r.payload(), m)) {
                    finding(c, "cross-node", FuzzInvariants.shortNode(node) + " received data of node "
                            + marker.getKey() + " (reply type " + r.type() + ")");
                }
            }
        }
    }

    private static boolean busy(FuzzCaseRunner.Reply r) {
        return r.type() == Protocol.ERROR && r.payload().length > 0
                && (r.payload()[0] & 0xff) == Reason.BUSY.ordinal();
    }

    private static String message(FuzzCaseRunner.Reply r) {
        byte[] p = r.payload();
        if (p.length < 3) {
            return "";
        }
        int n = Math.min((p[1] & 0xff) << 8 | (p[2] & 0xff), p.length - 3);
        return new String(p, 3, n, StandardCharsets.UTF_8);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (haystack[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** Waits until the server has released every connection slot (it must, soon after a close). */
    private void awaitIdle(FuzzCase c) throws InterruptedException {
        long until = System.nanoTime() + CLOSE_BOUND_MILLIS * 1_000_000;
        while (server.unauthenticatedConnections() != 0 || server.authenticatedConnections() != 0) {
            if (System.nanoTime() > until) {
                finding(c, "slot-leak", server.unauthenticatedConnections() + " unauthenticated and "
                        + server.authenticatedConnections() + " authenticated slots still taken " + CLOSE_BOUND_MILLIS
                        + " ms after the connection ended");
                return;
            }
            Thread.sleep(2);
        }
    }

    /** Bytes allocated so far by each live transport thread, by thread id. */
    private Map<Long, Long> serverAllocation() {
        Map<Long, Long> m = new HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("transport-")) {
                m.put(t.getId(), threads.getThreadAllocatedBytes(t.getId()));
            }
        }
        return m;
    }

    private long allocatedSince(Map<Long, Long> before) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : serverAllocation().entrySet()) {
            sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
        }
        return sum;
    }

    /** The checks that cost a directory walk: the probe, the layout, the usage sum and (full) verify. */
    void checkRepository(FuzzCase after, boolean full) throws IOException {
        try {
            probe.probe();
        } catch (IOException | RuntimeException e) {
            probeFailures++;
            finding(after, "probe", "a legitimate backup and restore failed: " + e);
        }
        for (String problem : invariants.layoutViolations()) {
            finding(after, "layout", problem);
        }
        for (String problem : invariants.quotaViolations(fuzzedNodes())) {
            finding(after, "quota", problem);
        }
        Map<PointRef, byte[]> committed = new LinkedHashMap<>(setupPoints);
        committed.putAll(probe.committed());
        if (full) {
            for (String problem : invariants.pointViolations(committed)) {
                finding(after, "points", problem);
            }
        }
    }

    private void finding(FuzzCase c, String oracle, String detail) {
        // A broken state invariant stays broken: the case that broke it is the finding, the cases
        // after it would only repeat it.
        if (STATE_ORACLES.contains(oracle) && !firedStateOracles.add(oracle)) {
            return;
        }
        FuzzFinding f = new FuzzFinding(seed, c.number(), oracle, detail, c.description());
        findings.add(f);
        System.err.println(f);
    }

    @Override
    public void close() throws IOException {
        runner.close();
        server.close();
    }

    /**
     * {@code ProtocolFuzzer [seconds] [seed] [from-case [to-case]]}: fuzzes for the time given (default
     * 180 s) from a seed (default: from the clock, printed), or replays the cases from..to of a seed.
     * Progress and findings on stderr; one JSON object as the last line on stdout; exit 1 on a finding.
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 180;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.currentTimeMillis();
        int from = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        int max = args.length > 3 ? Integer.parseInt(args[3]) - from + 1 : Integer.MAX_VALUE;
        Path dir = Files.createTempDirectory("blockvault-fuzz-");
        System.err.printf("fuzzing the transport for %.0f s with seed %d (replay: bench/repository-fuzz %.0f %d); "
                + "repository in %s%n", seconds, seed, seconds, seed, dir);
        Report report;
        try (ProtocolFuzzer fuzzer = new ProtocolFuzzer(dir, seed)) {
            report = fuzzer.run(from, max, System.nanoTime() + (long) (seconds * 1e9));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        out.put("seed", seed);
        out.put("seconds", Math.round(report.seconds() * 10) / 10.0);
        out.put("cases", report.cases());
        out.put("cases_per_second", Math.round(report.casesPerSecond() * 10) / 10.0);
        out.put("findings", report.findings().size());
        out.put("probes", report.probes());
        out.put("probe_failures", report.probeFailures());
        out.put("points_committed_by_fuzzed_nodes", report.fuzzedPoints());
        ObjectNode replies = out.putObject("replies");
        report.replies().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> replies.put(e.getKey(), e.getValue()));
        if (report.findings().isEmpty()) {
            deleteTree(dir);
        } else {
            System.err.println("the repository of the run is kept in " + dir);
            out.put("first_finding", report.findings().get(0).toString());
        }
        System.out.println(json.writeValueAsString(out));
        System.exit(report.findings().isEmpty() ? 0 : 1);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
