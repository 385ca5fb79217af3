package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.store.RepositoryStore;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UTFDataFormatException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ServerSocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The network-facing part of the repository: one TLS 1.3 port, bearer-token authentication,
 * per-node authorisation, one thread and at most one frame in memory per connection. It writes only
 * into the incoming area through {@link RepositoryStore}; the guard does everything else.
 */
public final class TransportServer implements AutoCloseable {

    private final TransportConfig config;
    private final SSLContext tls;
    private final Authenticator authenticator;
    private final RepositoryStore store;
    private final System.Logger log;
    private final Map<Identity, AtomicInteger> perIdentity = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor pool;
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final RateLimitedLog refusals;
    private final AtomicInteger unauthenticated = new AtomicInteger();
    private final Map<InetAddress, Integer> unauthenticatedPerAddress = new ConcurrentHashMap<>();
    private final AtomicInteger authenticated = new AtomicInteger();
    private final ScheduledThreadPoolExecutor deadlines;
    private ServerSocket server;
    private SSLSocketFactory tlsSockets;
    private Thread acceptor;

    /** At most one line per kind of refusal in this time; the rest are counted in the next line. */
    static final long REFUSAL_LOG_INTERVAL_MILLIS = 10_000;

    public TransportServer(TransportConfig config, SSLContext tls, Authenticator authenticator, RepositoryStore store,
            System.Logger log) {
        this.config = config;
        this.tls = tls;
        this.authenticator = authenticator;
        this.store = store;
        this.log = log;
        this.refusals = new RateLimitedLog(log, REFUSAL_LOG_INTERVAL_MILLIS);
        // Admission (the two counters) bounds how many connections run; the pool only has to have room
        // for them, with slack for threads that are still returning from a finished connection.
        int threads = 2 * (config.maxConnections() + config.maxUnauthenticated());
        this.pool = new ThreadPoolExecutor(0, threads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "transport-connection");
            t.setDaemon(true);
            return t;
        });
        this.deadlines = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "transport-handshake-deadline");
            t.setDaemon(true);
            return t;
        });
        this.deadlines.setRemoveOnCancelPolicy(true);
    }

    public void start() throws IOException {
        // Plain TCP, with TLS layered per connection: closing the raw socket at the handshake deadline
        // then reliably ends a handshake read that a peer keeps alive one byte at a time.
        server = ServerSocketFactory.getDefault().createServerSocket(config.port(), 128, config.bindAddress());
        tlsSockets = tls.getSocketFactory();
        acceptor = new Thread(this::acceptLoop, "transport-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        log.log(System.Logger.Level.INFO, "transport listening on " + config.bindAddress().getHostAddress() + ":"
                + port() + " (TLS 1.3)");
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    refusals.log(System.Logger.Level.WARNING, "accept", "accept failed: " + e.getMessage());
                }
                continue;
            }
            int id = connectionIds.incrementAndGet();
            InetAddress address = s.getInetAddress();
            String refused = admitUnauthenticated(address);
            if (refused != null) {
                refusals.log(System.Logger.Level.WARNING, "admission:" + refused, "connection " + id + " from "
                        + s.getRemoteSocketAddress() + " refused: " + refused);
                reset(s);
                continue;
            }
            try {
                pool.execute(() -> handle(s, address, id));
            } catch (RejectedExecutionException e) {
                releaseUnauthenticated(address);
                refusals.log(System.Logger.Level.WARNING, "admission:threads", "connection " + id + " from "
                        + s.getRemoteSocketAddress() + " refused: no connection thread is free");
                reset(s);
            }
        }
    }

    /** Takes an unauthenticated slot for a new connection; null, or why it is refused. */
    private String admitUnauthenticated(InetAddress address) {
        if (unauthenticated.incrementAndGet() > config.maxUnauthenticated()) {
            unauthenticated.decrementAndGet();
            return config.maxUnauthenticated() + " connections are still authenticating (the limit, "
                    + "--max-unauthenticated-connections)";
        }
        boolean[] admitted = {false};
        unauthenticatedPerAddress.compute(address, (a, n) -> {
            int open = n == null ? 0 : n;
            if (open >= config.maxUnauthenticatedPerAddress()) {
                return n;
            }
            admitted[0] = true;
            return open + 1;
        });
        if (!admitted[0]) {
            unauthenticated.decrementAndGet();
            return config.maxUnauthenticatedPerAddress() + " connections from this address are still authenticating "
                    + "(the limit, --max-unauthenticated-connections-per-address)";
        }
        return null;
    }

    private void releaseUnauthenticated(InetAddress address) {
        unauthenticatedPerAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
        unauthenticated.decrementAndGet();
    }

    /** Connections not authenticated yet, overall (for tests and diagnostics). */
    int unauthenticatedConnections() {
        return unauthenticated.get();
    }

    /** Authenticated connections open, overall (for tests and diagnostics: a leaked slot shows here). */
    int authenticatedConnections() {
        return authenticated.get();
    }

    private static final int HANDSHAKING = 0;
    private static final int AUTHENTICATED = 1;
    private static final int EXPIRED = 2;

    private void handle(Socket raw, InetAddress address, int connId) {
        String peer = String.valueOf(raw.getRemoteSocketAddress());
        AtomicInteger stage = new AtomicInteger(HANDSHAKING);
        // One deadline for TLS handshake, HELLO and authentication together: a per-read timeout lets a
        // peer hold the slot forever by sending a byte just before each read times out.
        ScheduledFuture<?> deadline = deadlines.schedule(() -> {
            if (stage.compareAndSet(HANDSHAKING, EXPIRED)) {
                reset(raw);
            }
        }, config.handshakeTimeoutMillis(), TimeUnit.MILLISECONDS);
        boolean unauthenticatedSlot = true;
        boolean authenticatedSlot = false;
        Identity authenticatedAs = null;
        Identity identity = null;
        SSLSocket socket = null;
        FrameChannel ch = null;
        try {
            raw.setSoTimeout(config.handshakeTimeoutMillis());
            raw.setTcpNoDelay(true);
            socket = (SSLSocket) tlsSockets.createSocket(raw, address.getHostAddress(), raw.getPort(), true);
            socket.setUseClientMode(false);
            socket.setEnabledProtocols(Tls.PROTOCOLS);
            socket.startHandshake();
            ch = new FrameChannel(socket.getInputStream(), socket.getOutputStream(), 4096);
            Identity who = hello(ch);
            if (!stage.compareAndSet(HANDSHAKING, AUTHENTICATED)) {
                throw new SocketException("handshake deadline passed");
            }
            deadline.cancel(false);
            releaseUnauthenticated(address);
            unauthenticatedSlot = false;
            authenticatedAs = who;
            if (authenticated.incrementAndGet() > config.maxConnections()) {
                authenticated.decrementAndGet();
                throw new RepositoryException(Reason.BUSY, "the repository has " + config.maxConnections()
                        + " authenticated connections open (the limit); retry later");
            }
            authenticatedSlot = true;
            AtomicInteger count = perIdentity.computeIfAbsent(who, k -> new AtomicInteger());
            if (count.incrementAndGet() > config.maxConnectionsPerIdentity()) {
                count.decrementAndGet();
                throw new RepositoryException(Reason.BUSY, who + " already has "
                        + config.maxConnectionsPerIdentity() + " connections open (the limit); retry later");
            }
            identity = who;
            ch.maxFrame(config.maxFrameBytes());
            String welcomeName = identity.toString();
            ch.write(Protocol.WELCOME, d -> {
                d.writeUTF(welcomeName);
                d.writeInt(config.maxFrameBytes());
            });
            ch.flush();
            socket.setSoTimeout(config.idleTimeoutMillis());
            log.log(System.Logger.Level.DEBUG, "connection " + connId + " from " + peer + " is " + identity);
            serve(ch, identity);
        } catch (IOException | RuntimeException e) {
            if (stage.get() == EXPIRED) {
                refusals.log(System.Logger.Level.WARNING, "handshake-deadline", "connection " + connId + " from " + peer
                        + " closed: TLS handshake, HELLO and authentication did not finish within "
                        + config.handshakeTimeoutMillis() + " ms (--handshake-timeout-millis)");
            } else {
                report(e, ch, connId, peer, authenticatedAs);
            }
        } finally {
            deadline.cancel(false);
            if (unauthenticatedSlot) {
                releaseUnauthenticated(address);
            }
            if (authenticatedSlot) {
                authenticated.decrementAndGet();
            }
            if (identity != null) {
                perIdentity.get(identity).decrementAndGet();
            }
            if (socket != null) {
                closeQuietly(socket);
            }
            closeQuietly(raw);
        }
    }

    /**
     * Logs why a connection ended and tells the peer when there is something to tell. Before
     * authentication the peer may be anyone and choose how often this happens, so those lines are
     * rate-limited per kind.
     */
    private void report(Exception e, FrameChannel ch, int connId, String peer, Identity who) {
        String prefix = "connection " + connId + " from " + peer + (who == null ? "" : " (" + who + ")");
        if (e instanceof RepositoryException r) {
            String line = prefix + " closed: " + r.getMessage();
            if (who == null) {
                refusals.log(System.Logger.Level.WARNING, "refused:" + r.reason(), line);
            } else {
                log.log(System.Logger.Level.WARNING, line);
            }
            sendError(ch, r);
        } else if (e instanceof SSLException && e.getCause() instanceof EOFException) {
            // Closed before sending a TLS byte: the kubelet's TCP readiness probe every 10 s, or a port scan.
            log.log(System.Logger.Level.DEBUG, prefix + " closed before the TLS handshake began");
        } else if (e instanceof SSLException) {
            refusals.log(System.Logger.Level.WARNING, "tls", prefix + ": TLS failed: " + e.getMessage());
        } else if (e instanceof SocketTimeoutException) {
            if (who == null) {
                refusals.log(System.Logger.Level.INFO, "timeout", prefix + " timed out before authenticating");
            } else {
                log.log(System.Logger.Level.INFO, prefix + " timed out");
                sendError(ch, new RepositoryException(Reason.PROTOCOL, "idle for too long; connection closed"));
            }
        } else if (e instanceof EOFException || e instanceof SocketException) {
            log.log(System.Logger.Level.DEBUG, prefix + " ended: " + e);
        } else {
            log.log(System.Logger.Level.WARNING, prefix + " failed: " + e, e);
            sendError(ch, new RepositoryException(Reason.INTERNAL, "internal error: " + e.getMessage()));
        }
    }

    private void sendError(FrameChannel ch, RepositoryException e) {
        if (ch == null) {
            return;
        }
        try {
            ch.write(Protocol.ERROR, d -> {
                d.writeByte(e.reason().ordinal());
                d.writeUTF(truncate(e.getMessage()));
            });
            ch.flush();
        } catch (IOException ignored) {
            // the peer is gone
        }
    }

    private static String truncate(String s) {
        String m = s == null ? "" : s;
        return m.length() > 4000 ? m.substring(0, 4000) + "..." : m;
    }

    private Identity hello(FrameChannel ch) throws IOException {
        FrameChannel.Frame f;
        try {
            f = ch.read();
        } catch (RepositoryException e) {
            throw new RepositoryException(Reason.PROTOCOL, "the first frame must be HELLO (" + e.getMessage()
                    + "); is this a blockvault client?");
        }
        if (f == null) {
            throw new EOFException("closed before HELLO");
        }
        if (f.type() != Protocol.HELLO) {
            throw new RepositoryException(Reason.PROTOCOL, "the first frame must be HELLO, got type " + f.type()
                    + "; is this a blockvault client?");
        }
        DataInputStream d = f.data();
        byte[] magic = d.readNBytes(4);
        if (!Arrays.equals(magic, Protocol.MAGIC)) {
            throw new RepositoryException(Reason.PROTOCOL, "HELLO has a wrong magic; is this a blockvault client?");
        }
        int version = d.readUnsignedShort();
        if (version != Protocol.VERSION) {
            throw new RepositoryException(Reason.PROTOCOL, "protocol version " + version + " is not supported (server "
                    + "speaks " + Protocol.VERSION + "); upgrade the older side");
        }
        String token;
        try {
            token = d.readUTF();
        } catch (EOFException e) {
            throw new RepositoryException(Reason.PROTOCOL, "HELLO carries no token");
        } catch (UTFDataFormatException e) {
            throw new RepositoryException(Reason.PROTOCOL, "HELLO's token is not valid modified UTF-8");
        }
        return authenticator.authenticate(token);
    }

    private void serve(FrameChannel ch, Identity who) throws IOException {
        while (true) {
            FrameChannel.Frame f = ch.read();
            if (f == null) {
                return;
            }
            try {
                dispatch(ch, who, f);
            } catch (RepositoryException e) {
                if (e.reason() == Reason.PROTOCOL || e.reason() == Reason.FRAME_TOO_LARGE) {
                    throw e;
                }
                log.log(System.Logger.Level.INFO, who + ": request " + f.type() + " refused: " + e.getMessage());
                sendError(ch, e);
            } catch (UTFDataFormatException e) {
                // readUTF's complaint about a string that is not modified UTF-8: the request, not the server
                RepositoryException r = new RepositoryException(Reason.INVALID_REQUEST, "malformed request of type "
                        + f.type() + ": a string is not valid modified UTF-8 (" + e.getMessage() + ")");
                log.log(System.Logger.Level.INFO, who + ": " + r.getMessage());
                sendError(ch, r);
            } catch (EOFException | IllegalArgumentException e) {
                RepositoryException r = new RepositoryException(Reason.INVALID_REQUEST, "malformed request of type "
                        + f.type() + ": " + (e.getMessage() == null ? "payload too short" : e.getMessage()));
                log.log(System.Logger.Level.INFO, who + ": " + r.getMessage());
                sendError(ch, r);
            } catch (IOException e) {
                if (!filesystemFull(e)) {
                    throw e;
                }
                // The free-space check before a write races with parallel uploads and the guard's
                // copies; a write that still meets ENOSPC is the same answer: full, not broken.
                RepositoryException r = new RepositoryException(Reason.QUOTA_EXCEEDED, "the repository filesystem "
                        + "is full (" + e.getMessage() + "); add space or prune old restore points", e);
                log.log(System.Logger.Level.WARNING, who + ": request " + f.type() + " refused: " + r.getMessage());
                sendError(ch, r);
            }
            ch.flush();
        }
    }

    private static boolean filesystemFull(IOException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("No space left on device") || message.contains("Disk quota exceeded");
    }

    private static void requireNode(Identity who, String node) throws RepositoryException {
        if (who.kind() != Identity.Kind.NODE || !who.name().equals(node)) {
            throw new RepositoryException(Reason.FORBIDDEN, who + " may not access the restore points of node " + node
                    + "; an agent reads and writes only its own node's");
        }
    }

    private static void requireOperator(Identity who, String what) throws RepositoryException {
        if (who.kind() != Identity.Kind.OPERATOR) {
            throw new RepositoryException(Reason.FORBIDDEN, who + " may not " + what + "; only the operator may");
        }
    }

    private void dispatch(FrameChannel ch, Identity who, FrameChannel.Frame f) throws IOException {
        DataInputStream d = f.data();
        switch (f.type()) {
            case Protocol.LACK -> {
                String node = d.readUTF();
                String session = d.readUTF();
                requireNode(who, node);
                int n = d.readInt();
                if (n < 0 || n > (f.payload().length / ChunkId.LENGTH)) {
                    throw new RepositoryException(Reason.INVALID_REQUEST, "LACK announces " + n + " ids but carries fewer");
                }
                List<ChunkId> ids = new ArrayList<>(n);
                byte[] buf = new byte[ChunkId.LENGTH];
                for (int i = 0; i < n; i++) {
                    d.readFully(buf);
                    ids.add(ChunkId.of(buf));
                }
                Set<ChunkId> missing = store.missingChunks(node, session, ids);
                ch.write(Protocol.LACK_REPLY, o -> {
                    o.writeInt(missing.size());
                    for (ChunkId id : missing) {
                        o.write(id.bytes());
                    }
                });
            }
            case Protocol.PUT_CHUNK -> {
                String node = d.readUTF();
                requireNode(who, node);
                byte[] idb = new byte[ChunkId.LENGTH];
                d.readFully(idb);
                int offset = f.payload().length - d.available();
                byte[] stored = Arrays.copyOfRange(f.payload(), offset, f.payload().length);
                boolean created = store.putChunk(node, ChunkId.of(idb), stored, stored.length);
                ch.write(Protocol.OK, o -> o.writeBoolean(created));
            }
            case Protocol.COMMIT -> commit(ch, who, d);
            case Protocol.LIST -> list(ch, who, d.readUTF());
            case Protocol.READ_POINT -> {
                PointRef ref = new PointRef(d.readUTF(), d.readUTF());
                requireNode(who, ref.node());
                Path file = store.pointFile(ref).orElseThrow(() -> new RepositoryException(Reason.NOT_FOUND,
                        "restore point " + ref + " does not exist"));
                sendIndex(ch, ref, file);
            }
            case Protocol.READ_CHUNKS -> {
                PointRef ref = new PointRef(d.readUTF(), d.readUTF());
                requireNode(who, ref.node());
                int from = d.readInt();
                int count = d.readInt();
                if (count > 4096) {
                    throw new RepositoryException(Reason.INVALID_REQUEST, "READ_CHUNKS asks for " + count
                            + " chunks; at most 4096 per request");
                }
                store.readChunks(ref, from, count, (i, id, stored, length) -> ch.write(Protocol.CHUNK, o -> {
                    o.writeInt(i);
                    o.write(id.bytes());
                }, stored, 0, length));
                ch.write(Protocol.OK, new byte[0]);
            }
            case Protocol.DELETE -> {
                PointRef ref = new PointRef(d.readUTF(), d.readUTF());
                requireOperator(who, "delete restore points");
                long at = store.requestDelete(ref).toEpochMilli();
                log.log(System.Logger.Level.INFO, who + " requested deletion of " + ref);
                ch.write(Protocol.OK, o -> o.writeLong(at));
            }
            case Protocol.VERIFY -> {
                requireOperator(who, "verify restore points");
                int n = d.readInt();
                if (n < 0 || n > 100_000) {
                    throw new RepositoryException(Reason.INVALID_REQUEST, "VERIFY of " + n + " points refused");
                }
                List<PointRef> refs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    refs.add(new PointRef(d.readUTF(), d.readUTF()));
                }
                VerifyReport r = store.verify(refs);
                ch.write(Protocol.VERIFY_REPLY, o -> Codec.writeReport(o, r, 10_000));
            }
            case Protocol.STATS -> {
                requireOperator(who, "read repository statistics");
                RepositoryStats stats = store.stats();
                ch.write(Protocol.STATS_REPLY, o -> Codec.writeStats(o, stats));
            }
            case Protocol.HELLO -> throw new RepositoryException(Reason.PROTOCOL, "HELLO sent twice");
            default -> throw new RepositoryException(Reason.PROTOCOL, "unknown request type " + f.type());
        }
    }

    private void commit(FrameChannel ch, Identity who, DataInputStream d) throws IOException {
        String session = d.readUTF();
        long total = d.readInt() & 0xffffffffL;
        if (who.kind() != Identity.Kind.NODE) {
            throw new RepositoryException(Reason.PROTOCOL, who + " may not commit restore points; only node agents may");
        }
        if (total > config.maxIndexBytes()) {
            throw new RepositoryException(Reason.PROTOCOL, "an index of " + total + " bytes exceeds the limit of "
                    + config.maxIndexBytes());
        }
        // The index is staged on disk before it can be parsed: the bytes count against the node's quota
        // and the free-space reserve for as long as the temp file exists.
        Path tmp = store.layout().incomingTmp().resolve("commit." + UUID.randomUUID() + ".tmp");
        RepositoryStore.Reservation reservation;
        try {
            reservation = store.reserveCommit(who.name(), total);
        } catch (RepositoryException e) {
            // The client has sent its index parts already: skip them (they are not stored), so the
            // refusal is the answer to this COMMIT and the connection stays in step.
            readParts(ch, total, part -> { });
            throw e;
        }
        try (RepositoryStore.Reservation staged = reservation) {
            try {
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    readParts(ch, total, part -> out.write(java.nio.ByteBuffer.wrap(part)));
                    out.force(true);
                }
                RestorePointIndex idx;
                try (InputStream in = new BufferedInputStream(Files.newInputStream(tmp), 1 << 16)) {
                    idx = IndexCodec.read(in);
                } catch (FormatException e) {
                    throw new RepositoryException(Reason.INVALID_REQUEST, "the committed index is invalid: "
                            + e.getMessage());
                }
                requireNode(who, idx.node());
                store.commitPrepared(tmp, idx, session);
                log.log(System.Logger.Level.INFO, who + " committed restore point " + idx.node() + "/" + idx.pointId()
                        + " (" + idx.chunks().size() + " chunks)");
                ch.write(Protocol.OK, new byte[0]);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Receives {@code total} bytes of COMMIT_PART frames. */
    private static void readParts(FrameChannel ch, long total, PartSink sink) throws IOException {
        long got = 0;
        while (got < total) {
            FrameChannel.Frame part = ch.read();
            if (part == null) {
                throw new EOFException("connection closed during a commit");
            }
            if (part.type() != Protocol.COMMIT_PART || got + part.payload().length > total) {
                throw new RepositoryException(Reason.PROTOCOL, "expected " + (total - got)
                        + " more index bytes in COMMIT_PART frames");
            }
            sink.accept(part.payload());
            got += part.payload().length;
        }
    }

    @FunctionalInterface
    private interface PartSink {
        void accept(byte[] part) throws IOException;
    }

    private void list(FrameChannel ch, Identity who, String node) throws IOException {
        Optional<String> which = node.isEmpty() ? Optional.empty() : Optional.of(node);
        if (which.isEmpty()) {
            requireOperator(who, "list every node's restore points");
        } else if (who.kind() != Identity.Kind.OPERATOR) {
            requireNode(who, node);
        }
        List<PointSummary> all = store.listPoints(which);
        int per = 1000;
        for (int start = 0; start == 0 || start < all.size(); start += per) {
            List<PointSummary> part = all.subList(start, Math.min(all.size(), start + per));
            boolean last = start + per >= all.size();
            ch.write(Protocol.LIST_PART, o -> {
                o.writeBoolean(last);
                o.writeInt(part.size());
                for (PointSummary p : part) {
                    Codec.writeSummary(o, p);
                }
            });
        }
    }

    private void sendIndex(FrameChannel ch, PointRef ref, Path file) throws IOException {
        byte[] buf = new byte[Protocol.PART];
        try (InputStream in = Files.newInputStream(file)) {
            while (true) {
                int n = in.readNBytes(buf, 0, buf.length);
                boolean last = n < buf.length;
                int len = n;
                ch.write(Protocol.INDEX_PART, o -> o.writeBoolean(last), buf, 0, len);
                if (last) {
                    return;
                }
            }
        }
    }

    /** Closes with a reset: a refused peer leaves no TIME_WAIT entry behind however fast it reconnects. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
        }
        pool.shutdownNow();
        deadlines.shutdownNow();
    }
}
