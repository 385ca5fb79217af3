package io.blockvault.repository.client;

import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.PointStats;
import java.time.Instant;
import java.util.Optional;

/**
 * A restore point as listed: its metadata, whether the guard has sealed it into the store yet,
 * and until when it is immutable (empty while it waits in the incoming area).
 */
public record PointSummary(PointRef ref, DeviceIdentity device, int chunkSizeBytes, ChangeId changeId,
        Optional<String> parentPointId, Instant startedAt, Instant finishedAt, PointStats stats, boolean sealed,
        Optional<Instant> lockedUntil) {

    /** The same point as the guard has it now: sealed or not, and locked until when. */
    public PointSummary withSeal(boolean sealed, Optional<Instant> lockedUntil) {
        return new PointSummary(ref, device, chunkSizeBytes, changeId, parentPointId, startedAt, finishedAt, stats,
                sealed, lockedUntil);
    }
}
