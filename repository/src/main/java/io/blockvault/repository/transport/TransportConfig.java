package io.blockvault.repository.transport;

import java.net.InetAddress;

/**
 * Limits and addresses of the transport. Memory per connection is bounded by {@code maxFrameBytes}
 * (one frame at a time), so the whole server by {@code maxConnections * maxFrameBytes}.
 */
public record TransportConfig(InetAddress bindAddress, int port, int maxFrameBytes, int maxConnections,
        int maxConnectionsPerIdentity, int handshakeTimeoutMillis, int idleTimeoutMillis, long maxIndexBytes) {

    public static TransportConfig defaults(InetAddress bind, int port) {
        return new TransportConfig(bind, port, Protocol.DEFAULT_MAX_FRAME, 64, 16, 10_000, 120_000, 64L << 20);
    }
}
