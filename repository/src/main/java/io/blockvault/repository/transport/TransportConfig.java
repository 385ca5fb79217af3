package io.blockvault.repository.transport;

import java.net.InetAddress;

/**
 * Limits and addresses of the transport. Memory per connection is bounded by {@code maxFrameBytes}
 * (one frame at a time), so the whole server by {@code maxConnections * maxFrameBytes}; a connection
 * that has not authenticated yet holds at most a 4 KiB frame.
 *
 * <p>Connections are admitted in two stages. Until it has finished the TLS handshake, HELLO and
 * authentication, a connection holds one of {@code maxUnauthenticated} slots (at most
 * {@code maxUnauthenticatedPerAddress} per source address) and must finish within
 * {@code handshakeTimeoutMillis} in total, however slowly it trickles bytes; only then does it take
 * one of the {@code maxConnections} slots of authenticated clients. So peers without a token can
 * never take an authenticated client's slot.
 */
public record TransportConfig(InetAddress bindAddress, int port, int maxFrameBytes, int maxConnections,
        int maxConnectionsPerIdentity, int handshakeTimeoutMillis, int idleTimeoutMillis, long maxIndexBytes,
        int maxUnauthenticated, int maxUnauthenticatedPerAddress) {

    public static final int DEFAULT_MAX_UNAUTHENTICATED = 64;
    public static final int DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 16;

    public TransportConfig {
        positive("maxFrameBytes", maxFrameBytes);
        positive("maxConnections", maxConnections);
        positive("maxConnectionsPerIdentity", maxConnectionsPerIdentity);
        positive("handshakeTimeoutMillis", handshakeTimeoutMillis);
        positive("idleTimeoutMillis", idleTimeoutMillis);
        positive("maxUnauthenticated", maxUnauthenticated);
        positive("maxUnauthenticatedPerAddress", maxUnauthenticatedPerAddress);
        if (maxIndexBytes < 1) {
            throw new IllegalArgumentException("maxIndexBytes must be at least 1, got " + maxIndexBytes);
        }
    }

    /** The limits before unauthenticated connections had their own: those get the defaults. */
    public TransportConfig(InetAddress bindAddress, int port, int maxFrameBytes, int maxConnections,
            int maxConnectionsPerIdentity, int handshakeTimeoutMillis, int idleTimeoutMillis, long maxIndexBytes) {
        this(bindAddress, port, maxFrameBytes, maxConnections, maxConnectionsPerIdentity, handshakeTimeoutMillis,
                idleTimeoutMillis, maxIndexBytes, DEFAULT_MAX_UNAUTHENTICATED, DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS);
    }

    public static TransportConfig defaults(InetAddress bind, int port) {
        return new TransportConfig(bind, port, Protocol.DEFAULT_MAX_FRAME, 64, 16, 10_000, 120_000, 64L << 20);
    }

    public TransportConfig withUnauthenticatedLimits(int overall, int perAddress) {
        return new TransportConfig(bindAddress, port, maxFrameBytes, maxConnections, maxConnectionsPerIdentity,
                handshakeTimeoutMillis, idleTimeoutMillis, maxIndexBytes, overall, perAddress);
    }

    private static void positive(String field, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " must be at least 1, got " + value);
        }
    }
}
