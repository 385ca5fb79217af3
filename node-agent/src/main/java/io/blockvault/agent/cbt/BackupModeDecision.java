package io.blockvault.agent.cbt;

import io.blockvault.api.v1alpha1.BackupMode;
import java.util.Arrays;

/**
 * Whether changed block tracking can stand in for reading the whole device, and why not when
 * it cannot. Tracking is trusted only when it has run without a break since the parent's take:
 * same generation, same capacity, and a change number it has not passed yet.
 */
public record BackupModeDecision(BackupMode mode, String reason) {

    /** The tracker state a restore point was taken at. */
    public record Tracking(byte[] generationId, int changesNumber, long capacityBytes) {
    }

    public static BackupModeDecision decide(Tracking parent, Tracking current, boolean fullRequested) {
        if (current == null) {
            return new BackupModeDecision(BackupMode.NoSnap, "no blksnap module on this node");
        }
        if (fullRequested) {
            return new BackupModeDecision(BackupMode.FullScan, "an active full was requested");
        }
        if (parent == null) {
            return new BackupModeDecision(BackupMode.FullScan, "no earlier restore point of this device");
        }
        if (!Arrays.equals(parent.generationId(), current.generationId())) {
            return new BackupModeDecision(BackupMode.FullScan,
                    "change tracking restarted since the last backup (reboot, module reload or counter wrap)");
        }
        if (parent.capacityBytes() != current.capacityBytes()) {
            return new BackupModeDecision(BackupMode.FullScan, "the device changed size from "
                    + parent.capacityBytes() + " to " + current.capacityBytes() + " bytes");
        }
        if (current.changesNumber() <= parent.changesNumber()) {
            return new BackupModeDecision(BackupMode.FullScan, "the tracker's change number "
                    + current.changesNumber() + " is not past the parent's " + parent.changesNumber());
        }
        return new BackupModeDecision(BackupMode.Cbt, "change tracking covers the span since the parent");
    }
}
