package io.blockvault.operator.retention;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A restore point as the repository lists it.
 *
 * @param node the node whose agent committed it
 * @param id the point's id (unique per node)
 * @param device stable name of the device (e.g. its /dev/disk/by-id path) recorded by the agent
 * @param startedAt when the backup started, right before its snapshot: the time retention goes by
 * @param finishedAt when it was committed
 * @param sealed whether the repository's guard has moved it into the immutable store; an unsealed
 *     point cannot be deleted yet
 * @param lockedUntil until when it is immutable, by the guard's trusted clock; empty when not locked
 */
public record CatalogPoint(String node, String id, String device, Instant startedAt, Instant finishedAt,
        boolean sealed, Optional<Instant> lockedUntil) {

    public CatalogPoint {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(lockedUntil, "lockedUntil");
    }

    /** As retention sees it: taken at the start of its backup. */
    public RestorePoint forRetention() {
        return new RestorePoint(id, startedAt, lockedUntil.orElse(null));
    }

    /** Whether the repository refuses to delete it at {@code now}: not sealed yet, or locked. */
    public boolean lockedAt(Instant now) {
        return !sealed || lockedUntil.filter(u -> u.isAfter(now)).isPresent();
    }

    @Override
    public String toString() {
        return node + "/" + id;
    }
}
