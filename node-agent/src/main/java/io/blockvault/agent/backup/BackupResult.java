package io.blockvault.agent.backup;

import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.repository.format.PointStats;
import java.util.List;
import java.util.Optional;

/**
 * What one backup did: the restore point, the mode and why it was chosen, and its statistics.
 * The operator writes these into {@code Backup.status}; the command line prints them.
 */
public record BackupResult(String node, String pointId, String device, String deviceStableId, long deviceSizeBytes,
        BackupMode mode, String modeReason, String snapshotProvider, boolean crashConsistent,
        Optional<String> parentPointId, PointStats stats, long changedChunks, long durationMillis, boolean directIo,
        List<String> notes) {

    public BackupResult {
        notes = List.copyOf(notes);
    }

    /** The same result with more said about why this mode (e.g. why no snapshot module was there). */
    public BackupResult withModeReason(String reason) {
        return new BackupResult(node, pointId, device, deviceStableId, deviceSizeBytes, mode, reason, snapshotProvider,
                crashConsistent, parentPointId, stats, changedChunks, durationMillis, directIo, notes);
    }
}
