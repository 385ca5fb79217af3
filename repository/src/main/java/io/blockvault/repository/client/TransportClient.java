package io.blockvault.repository.client;

import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.transport.Codec;
import io.blockvault.repository.transport.FrameChannel;
import io.blockvault.repository.transport.Protocol;
import io.blockvault.repository.transport.Tls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One authenticated TLS 1.3 connection to a repository's transport. Requests on one connection run
 * one at a time (methods are synchronized); open several clients for parallel streams. A restore
 * streams many chunks per request. After a dropped connection, connect again and repeat the
 * backup: the lack check makes it upload only what is missing.
 */
public final class TransportClient implements Repository {

    /**
     * Where and how to connect. The server certificate must name {@code serverName} (DNS or IP SAN),
     * which is {@code host} unless a caller connects to another address than the name it trusts
     * (a Service's DNS name reached through 127.0.0.1 on one machine, like curl's --resolve).
     */
    public record Endpoint(String host, int port, String serverName, SSLContext tls, String token,
            int connectTimeoutMillis, int readTimeoutMillis) {

        public Endpoint(String host, int port, SSLContext tls, String token) {
            this(host, port, host, tls, token, 10_000, 300_000);
        }

        public Endpoint withServerName(String name) {
            return new Endpoint(host, port, name, tls, token, connectTimeoutMillis, readTimeoutMillis);
        }
    }

    private final SSLSocket socket;
    private final FrameChannel ch;
    private final String identity;

    private TransportClient(SSLSocket socket, FrameChannel ch, String identity) {
        this.socket = socket;
        this.ch = ch;
        this.identity = identity;
    }

    public static TransportClient connect(Endpoint e) throws IOException {
        Socket plain = new Socket();
        SSLSocket s;
        try {
            plain.connect(new InetSocketAddress(e.host(), e.port()), e.connectTimeoutMillis());
            plain.setSoTimeout(e.readTimeoutMillis());
            plain.setTcpNoDelay(true);
            // Layered so that SNI and hostname verification use serverName, not the address dialled.
            s = (SSLSocket) e.tls().getSocketFactory().createSocket(plain, e.serverName(), e.port(), true);
        } catch (IOException | RuntimeException ex) {
            plain.close();
            throw ex;
        }
        try {
            s.setEnabledProtocols(Tls.PROTOCOLS);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
            FrameChannel ch = new FrameChannel(s.getInputStream(), s.getOutputStream(), Protocol.DEFAULT_MAX_FRAME);
            ch.write(Protocol.HELLO, d -> {
                d.write(Protocol.MAGIC);
                d.writeShort(Protocol.VERSION);
                d.writeUTF(e.token());
            });
            ch.flush();
            FrameChannel.Frame f = expect(ch, Protocol.WELCOME);
            DataInputStream d = f.data();
            String identity = d.readUTF();
            ch.maxFrame(Math.max(d.readInt(), Protocol.DEFAULT_MAX_FRAME));
            return new TransportClient(s, ch, identity);
        } catch (IOException | RuntimeException ex) {
            s.close();
            throw ex;
        }
    }

    /** Who the server says we are, e.g. {@code node:worker-1}. */
    public String identity() {
        return identity;
    }

    private static FrameChannel.Frame expect(FrameChannel ch, int type) throws IOException {
        FrameChannel.Frame f = ch.read();
        if (f == null) {
            throw new RepositoryException(Reason.PROTOCOL, "the repository closed the connection");
        }
        if (f.type() == Protocol.ERROR) {
            DataInputStream d = f.data();
            int reason = d.readUnsignedByte();
            String msg = d.readUTF();
            Reason[] all = Reason.values();
            throw new RepositoryException(reason < all.length ? all[reason] : Reason.INTERNAL, "repository: " + msg);
        }
        if (f.type() != type) {
            throw new RepositoryException(Reason.PROTOCOL, "expected reply type " + type + ", got " + f.type());
        }
        return f;
    }

    @Override
    public synchronized Set<ChunkId> missingChunks(String node, String sessionId, List<ChunkId> ids)
            throws IOException {
        Set<ChunkId> missing = new HashSet<>();
        int per = (Protocol.DEFAULT_MAX_FRAME - 1024) / ChunkId.LENGTH;
        for (int start = 0; start < ids.size(); start += per) {
            List<ChunkId> part = ids.subList(start, Math.min(ids.size(), start + per));
            ch.write(Protocol.LACK, o -> {
                o.writeUTF(node);
                o.writeUTF(sessionId);
                o.writeInt(part.size());
                for (ChunkId id : part) {
                    o.write(id.bytes());
                }
            });
            ch.flush();
            DataInputStream d = expect(ch, Protocol.LACK_REPLY).data();
            int n = d.readInt();
            byte[] b = new byte[ChunkId.LENGTH];
            for (int i = 0; i < n; i++) {
                d.readFully(b);
                missing.add(ChunkId.of(b));
            }
        }
        return missing;
    }

    @Override
    public synchronized boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException {
        ch.write(Protocol.PUT_CHUNK, o -> {
            o.writeUTF(node);
            o.write(id.bytes());
        }, stored, 0, length);
        ch.flush();
        return expect(ch, Protocol.OK).data().readBoolean();
    }

    @Override
    public synchronized void commit(RestorePointIndex index, String sessionId) throws IOException {
        byte[] bytes = IndexCodec.toBytes(index);
        ch.write(Protocol.COMMIT, o -> {
            o.writeUTF(sessionId);
            o.writeInt(bytes.length);
        });
        for (int off = 0; off < bytes.length; off += Protocol.PART) {
            ch.write(Protocol.COMMIT_PART, bytes, off, Math.min(Protocol.PART, bytes.length - off));
        }
        ch.flush();
        expect(ch, Protocol.OK);
    }

    @Override
    public synchronized List<PointSummary> listPoints(Optional<String> node) throws IOException {
        ch.write(Protocol.LIST, o -> o.writeUTF(node.orElse("")));
        ch.flush();
        List<PointSummary> all = new ArrayList<>();
        while (true) {
            DataInputStream d = expect(ch, Protocol.LIST_PART).data();
            boolean last = d.readBoolean();
            int n = d.readInt();
            for (int i = 0; i < n; i++) {
                all.add(Codec.readSummary(d));
            }
            if (last) {
                return all;
            }
        }
    }

    @Override
    public synchronized RestorePointIndex readPoint(PointRef point) throws IOException {
        ch.write(Protocol.READ_POINT, o -> {
            o.writeUTF(point.node());
            o.writeUTF(point.pointId());
        });
        ch.flush();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        while (true) {
            FrameChannel.Frame f = expect(ch, Protocol.INDEX_PART);
            boolean last = f.payload()[0] != 0;
            all.write(f.payload(), 1, f.payload().length - 1);
            if (last) {
                break;
            }
        }
        try {
            return IndexCodec.read(new ByteArrayInputStream(all.toByteArray()));
        } catch (FormatException e) {
            throw new RepositoryException(Reason.DAMAGED, "restore point " + point + " is damaged: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void readChunks(PointRef point, int from, int count, ChunkConsumer consumer)
            throws IOException {
        ch.write(Protocol.READ_CHUNKS, o -> {
            o.writeUTF(point.node());
            o.writeUTF(point.pointId());
            o.writeInt(from);
            o.writeInt(count);
        });
        ch.flush();
        IOException failure = null;
        while (true) {
            FrameChannel.Frame f = ch.read();
            if (f == null) {
                throw new RepositoryException(Reason.PROTOCOL, "the repository closed the connection during a restore");
            }
            if (f.type() == Protocol.OK) {
                break;
            }
            if (f.type() != Protocol.CHUNK) {
                // an ERROR ends the stream
                throw errorOf(f);
            }
            if (failure != null) {
                continue; // drain the rest of the stream so the connection stays usable
            }
            byte[] p = f.payload();
            int index = (p[0] & 0xff) << 24 | (p[1] & 0xff) << 16 | (p[2] & 0xff) << 8 | (p[3] & 0xff);
            ChunkId id = ChunkId.of(p, 4);
            int headerLen = 4 + ChunkId.LENGTH;
            byte[] stored = java.util.Arrays.copyOfRange(p, headerLen, p.length);
            try {
                consumer.accept(index, id, stored, stored.length);
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RepositoryException errorOf(FrameChannel.Frame f) throws IOException {
        if (f.type() == Protocol.ERROR) {
            DataInputStream d = f.data();
            int reason = d.readUnsignedByte();
            String msg = d.readUTF();
            Reason[] all = Reason.values();
            return new RepositoryException(reason < all.length ? all[reason] : Reason.INTERNAL, "repository: " + msg);
        }
        return new RepositoryException(Reason.PROTOCOL, "unexpected reply type " + f.type() + " during a restore");
    }

    @Override
    public synchronized Instant requestDelete(PointRef point) throws IOException {
        ch.write(Protocol.DELETE, o -> {
            o.writeUTF(point.node());
            o.writeUTF(point.pointId());
        });
        ch.flush();
        return Instant.ofEpochMilli(expect(ch, Protocol.OK).data().readLong());
    }

    @Override
    public synchronized VerifyReport verify(List<PointRef> points) throws IOException {
        ch.write(Protocol.VERIFY, o -> {
            o.writeInt(points.size());
            for (PointRef p : points) {
                o.writeUTF(p.node());
                o.writeUTF(p.pointId());
            }
        });
        ch.flush();
        return Codec.readReport(expect(ch, Protocol.VERIFY_REPLY).data());
    }

    @Override
    public synchronized RepositoryStats stats() throws IOException {
        ch.write(Protocol.STATS, new byte[0]);
        ch.flush();
        return Codec.readStats(expect(ch, Protocol.STATS_REPLY).data());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
