package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.format.ChunkId;
import java.util.List;
import java.util.Map;

/**
 * What the fuzzer knows about the repository it attacks, all derived from the seed so that a seed
 * always generates the same cases: the nodes, their tokens, chunks that exist, restore points (the
 * fuzzed node's own and other nodes'), and for each node a marker string in its indexes that no
 * other node may ever receive.
 */
record FuzzWorld(long seed, String fuzzNode, String longNode, String otherNode, String probeNode,
        Map<String, String> tokens, List<ChunkId> knownChunks, List<KnownPoint> knownPoints,
        Map<String, String> markers) {

    /** The longest node name a Kubernetes node can have (a DNS subdomain, 253 characters). */
    static final String LONG_NODE = "l" + "o".repeat(251) + "g";

    FuzzWorld {
        tokens = Map.copyOf(tokens);
        knownChunks = List.copyOf(knownChunks);
        knownPoints = List.copyOf(knownPoints); // lists, not maps: their order is part of the seed's cases
        markers = Map.copyOf(markers);
    }

    /** A committed restore point and its index bytes. */
    record KnownPoint(PointRef ref, byte[] index) {
    }

    String token(String identity) {
        String t = tokens.get(identity);
        if (t == null) {
            throw new IllegalArgumentException("no token for " + identity);
        }
        return t;
    }
}
