package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.operator.Labels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** Which Backup objects of one (node, device) fall out of the policy's history limits. */
public final class BackupHistory {

    private BackupHistory() {
    }

    /** When a Backup was scheduled: its schedule-time label, else its creation time. */
    public static Instant scheduleTime(Backup backup) {
        String label = backup.getMetadata().getLabels() == null ? null
                : backup.getMetadata().getLabels().get(Labels.SCHEDULE_TIME);
        if (label != null) {
            try {
                return Instant.ofEpochSecond(Long.parseLong(label));
            } catch (NumberFormatException ignored) {
                // hand-edited label: fall back to the creation time
            }
        }
        String created = backup.getMetadata().getCreationTimestamp();
        return created == null ? Instant.EPOCH : Instant.parse(created);
    }

    public static BackupPhase phase(Backup backup) {
        return backup.getStatus() == null || backup.getStatus().phase() == null ? BackupPhase.Pending
                : backup.getStatus().phase();
    }

    /** Newest first. */
    public static List<Backup> newestFirst(List<Backup> backups) {
        List<Backup> sorted = new ArrayList<>(backups);
        sorted.sort(Comparator.comparing(BackupHistory::scheduleTime).reversed()
                .thenComparing(b -> b.getMetadata().getName()));
        return sorted;
    }

    /**
     * The newest active full that did not fail: it tells when the next one is due, so history
     * pruning keeps it.
     */
    public static Optional<Backup> lastFull(List<Backup> backupsOfOneDevice) {
        return newestFirst(backupsOfOneDevice).stream()
                .filter(b -> b.getSpec() != null && b.getSpec().type() == BackupType.Full)
                .filter(b -> phase(b) != BackupPhase.Failed)
                .findFirst();
    }

    /**
     * Backups of one (node, device) to delete: beyond the newest {@code successfulLimit} succeeded
     * and {@code failedLimit} failed ones. Pending and running Backups and the last full stay.
     */
    public static List<Backup> beyondLimits(List<Backup> backupsOfOneDevice, int successfulLimit, int failedLimit) {
        Optional<Backup> keepFull = lastFull(backupsOfOneDevice);
        int succeeded = 0;
        int failed = 0;
        List<Backup> delete = new ArrayList<>();
        for (Backup b : newestFirst(backupsOfOneDevice)) {
            BackupPhase phase = phase(b);
            if (phase == BackupPhase.Succeeded) {
                succeeded++;
                if (succeeded > successfulLimit && !keepFull.map(f -> f == b).orElse(false)) {
                    delete.add(b);
                }
            } else if (phase == BackupPhase.Failed) {
                failed++;
                if (failed > failedLimit) {
                    delete.add(b);
                }
            }
        }
        return delete;
    }
}
