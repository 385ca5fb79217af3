package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.format.TestChunks;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The legitimate client: a node (not the fuzzed one) that backs up a small point through the real
 * client library and reads it back, chunk by chunk, after every few cases. If the fuzzing broke the
 * server for honest users, this fails.
 */
final class FuzzProbe {

    private final TransportClient.Endpoint endpoint;
    private final String node;
    private final long seed;
    private final ChunkId sharedChunk;
    private final Map<PointRef, byte[]> committed = new LinkedHashMap<>();
    private int probes;

    FuzzProbe(TransportClient.Endpoint endpoint, String node, long seed, ChunkId sharedChunk) {
        this.endpoint = endpoint;
        this.node = node;
        this.seed = seed;
        this.sharedChunk = sharedChunk;
    }

    /** Index bytes of every point this probe committed. */
    Map<PointRef, byte[]> committed() {
        return committed;
    }

    int probes() {
        return probes;
    }

    /** One backup and restore; throws with what went wrong. */
    void probe() throws IOException {
        int k = probes++;
        Random r = new Random(seed ^ (0x5DEECE66DL * (k + 1)));
        try (TransportClient c = TransportClient.connect(endpoint)) {
            Map<ChunkId, byte[]> fresh = new HashMap<>();
            List<ChunkId> ids = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                byte[] id = FuzzCaseGenerator.random(r, ChunkId.LENGTH);
                id[0] |= 1;
                ChunkId chunk = ChunkId.of(id);
                fresh.put(chunk, new TestChunks(FuzzCaseGenerator.random(r, 100 + r.nextInt(4000))).stored(chunk));
                ids.add(chunk);
            }
            ids.add(sharedChunk);
            ids.add(ChunkId.ZERO);
            String session = "probe" + k;
            Set<ChunkId> missing = c.missingChunks(node, session, ids);
            if (!missing.equals(fresh.keySet())) {
                throw new IOException("lack check answered " + missing.size() + " missing ids, expected exactly the "
                        + fresh.size() + " new ones");
            }
            for (Map.Entry<ChunkId, byte[]> e : fresh.entrySet()) {
                if (!c.putChunk(node, e.getKey(), e.getValue(), e.getValue().length)) {
                    throw new IOException("a new chunk was not created");
                }
            }
            String pointId = "probe-" + k;
            RestorePointIndex idx = new RestorePointIndex(pointId, node, new DeviceIdentity("/dev/disk/by-id/probe",
                    ids.size() * 4096L), 4096, new ChangeId("gen", k), Optional.empty(), 1_700_000_000_000L + k,
                    1_700_000_001_000L + k, 0, PointStats.EMPTY, ids);
            c.commit(idx, session);
            PointRef ref = new PointRef(node, pointId);
            committed.put(ref, IndexCodec.toBytes(idx));
            if (!c.readPoint(ref).equals(idx)) {
                throw new IOException("restore point " + ref + " reads back different");
            }
            Map<ChunkId, byte[]> read = new HashMap<>();
            c.readChunks(ref, 0, ids.size(), (i, id, stored, length) -> read.put(id, Arrays.copyOf(stored, length)));
            for (Map.Entry<ChunkId, byte[]> e : fresh.entrySet()) {
                if (!Arrays.equals(read.get(e.getKey()), e.getValue())) {
                    throw new IOException("chunk " + e.getKey() + " of " + ref + " reads back different");
                }
            }
            if (!read.containsKey(sharedChunk)) {
                throw new IOException("the shared chunk of " + ref + " was not returned");
            }
            List<PointRef> listed = c.listPoints(Optional.of(node)).stream().map(PointSummary::ref).toList();
            if (!listed.containsAll(committed.keySet())) {
                throw new IOException("the listing of " + node + " lacks some of its " + committed.size() + " points");
            }
        }
    }
}
