package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.format.TestChunks;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The repository the fuzzer starts from, planned from the seed alone (no server needed, so the
 * generator's determinism can be tested without one): tokens, and restore points of the fuzzed node,
 * of another node and of the probe's node, each with its chunks' stored bytes.
 */
record FuzzSetup(FuzzWorld world, List<SetupPoint> points) {

    /** A point to commit before fuzzing, with the stored bytes of the chunks it references. */
    record SetupPoint(RestorePointIndex index, Map<ChunkId, byte[]> stored) {
    }

    static final String FUZZ_NODE = "node-a";
    static final String OTHER_NODE = "node-b";
    static final String PROBE_NODE = "probe-node";

    FuzzSetup {
        points = List.copyOf(points);
    }

    static FuzzSetup plan(long seed) {
        Random r = new Random(seed);
        HexFormat hex = HexFormat.of();
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String identity : List.of("node:" + FUZZ_NODE, "node:" + OTHER_NODE, "node:" + PROBE_NODE,
                "node:" + FuzzWorld.LONG_NODE, "operator")) {
            tokens.put(identity, "fz" + hex.formatHex(FuzzCaseGenerator.random(r, 16)));
        }
        Map<String, String> markers = new LinkedHashMap<>();
        for (String node : List.of(FUZZ_NODE, OTHER_NODE, PROBE_NODE)) {
            markers.put(node, "secret-" + node + "-" + hex.formatHex(FuzzCaseGenerator.random(r, 8)));
        }
        List<SetupPoint> points = new ArrayList<>();
        List<ChunkId> known = new ArrayList<>();
        List<FuzzWorld.KnownPoint> knownPoints = new ArrayList<>();
        String[][] plan = {{FUZZ_NODE, "a1"}, {FUZZ_NODE, "a2"}, {OTHER_NODE, "b1"}, {OTHER_NODE, "b2"},
            {PROBE_NODE, "probe-setup"}};
        for (String[] p : plan) {
            Map<ChunkId, byte[]> stored = new LinkedHashMap<>();
            List<ChunkId> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                byte[] id = FuzzCaseGenerator.random(r, ChunkId.LENGTH);
                id[0] |= 1;
                ChunkId chunk = ChunkId.of(id);
                stored.put(chunk, new TestChunks(FuzzCaseGenerator.random(r, 500 + r.nextInt(2500))).stored(chunk));
                ids.add(chunk);
            }
            if (!known.isEmpty()) {
                ids.add(known.get(0)); // shared with another point: dedup across points and nodes
            }
            ids.add(ChunkId.ZERO);
            long started = 1_700_000_000_000L + r.nextInt(1 << 20);
            RestorePointIndex idx = new RestorePointIndex(p[1], p[0], new DeviceIdentity("/dev/disk/by-id/"
                    + markers.get(p[0]), ids.size() * 4096L - 100), 4096, new ChangeId("gen", 1),
                    java.util.Optional.empty(), started, started + 1000, 0, PointStats.EMPTY, ids);
            points.add(new SetupPoint(idx, stored));
            known.addAll(stored.keySet());
            knownPoints.add(new FuzzWorld.KnownPoint(new PointRef(p[0], p[1]), IndexCodec.toBytes(idx)));
        }
        FuzzWorld world = new FuzzWorld(seed, FUZZ_NODE, FuzzWorld.LONG_NODE, OTHER_NODE, PROBE_NODE, tokens, known,
                knownPoints, markers);
        return new FuzzSetup(world, points);
    }

    /** The token file's content. */
    String tokenFile() {
        StringBuilder b = new StringBuilder();
        world.tokens().forEach((identity, token) -> b.append(token).append(' ').append(identity).append('\n'));
        return b.toString();
    }
}
