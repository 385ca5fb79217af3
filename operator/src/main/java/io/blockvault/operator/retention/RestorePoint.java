package io.blockvault.operator.retention;

import java.time.Instant;
import java.util.Objects;

/**
 * A restore point as retention sees it.
 *
 * @param id the repository's id of the point
 * @param time when the point was taken (the snapshot's time)
 * @param lockedUntil end of its immutability period; null when it is not locked
 */
public record RestorePoint(String id, Instant time, Instant lockedUntil) {

    public RestorePoint {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(time, "time");
    }

    public boolean lockedAt(Instant now) {
        return lockedUntil != null && lockedUntil.isAfter(now);
    }
}
