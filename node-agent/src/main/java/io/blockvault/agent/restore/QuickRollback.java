package io.blockvault.agent.restore;

import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.agent.cbt.ChangedChunks;
import io.blockvault.repository.format.RestorePointIndex;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Quick rollback: when a restore point goes back onto the very device it was taken from, and the
 * change tracker has run without a break since that point (same generation, same capacity, a
 * change number past the point's), only the chunks changed since then need rewriting: every
 * other chunk still holds the point's data.
 */
public final class QuickRollback {

    /** The plan: which chunks to rewrite, or why the whole point must be written. */
    public record Plan(Optional<BitSet> chunks, String reason) {
    }

    private QuickRollback() {
    }

    /**
     * @param point             the restore point to go back to
     * @param targetStableId    stable id of the restore target
     * @param tracker           the tracker's state and frozen map from a take made now, if tracked
     */
    public static Plan plan(RestorePointIndex point, String targetStableId, Optional<CbtInfo> tracker,
            Optional<byte[]> map) {
        if (!point.device().stableId().equals(targetStableId)) {
            return new Plan(Optional.empty(), "the target is not the device the point was taken from");
        }
        if (tracker.isEmpty() || map.isEmpty()) {
            return new Plan(Optional.empty(), "the target is not tracked by the blksnap module");
        }
        CbtInfo info = tracker.get();
        if (point.changeId().generationId().isEmpty()) {
            return new Plan(Optional.empty(), "the point was taken without change tracking");
        }
        if (!point.changeId().generationId().equalsIgnoreCase(HexFormat.of().formatHex(info.generationId()))) {
            return new Plan(Optional.empty(), "change tracking restarted since the point was taken");
        }
        if (info.capacityBytes() != point.device().sizeBytes()) {
            return new Plan(Optional.empty(), "the device changed size since the point was taken");
        }
        if (info.changesNumber() < point.changeId().changeNumber()) {
            return new Plan(Optional.empty(), "the tracker's change number is behind the point's");
        }
        BitSet changed = ChangedChunks.since(map.get(), info.blockSizeBytes(), info.capacityBytes(),
                point.chunkSizeBytes(), (int) point.changeId().changeNumber());
        return new Plan(Optional.of(changed), changed.cardinality() + " of " + point.chunks().size()
                + " chunks changed since the point; only those are rewritten");
    }
}
