package io.blockvault.repository.client;

import io.blockvault.repository.format.ChunkId;
import java.util.List;

/**
 * The outcome of a verify: every damaged or missing chunk with the restore points it breaks, and
 * the restore points that cannot be restored whole.
 */
public record VerifyReport(int pointsChecked, long chunksChecked, List<DamagedChunk> damaged,
        List<PointRef> brokenPoints) {

    /** A chunk that is missing or does not match its checksum, and the points that need it. */
    public record DamagedChunk(ChunkId id, String problem, List<PointRef> points) {
    }

    public VerifyReport {
        damaged = List.copyOf(damaged);
        brokenPoints = List.copyOf(brokenPoints);
    }

    public boolean healthy() {
        return damaged.isEmpty() && brokenPoints.isEmpty();
    }
}
