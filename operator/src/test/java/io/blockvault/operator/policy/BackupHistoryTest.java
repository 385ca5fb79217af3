package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.operator.Labels;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackupHistoryTest {

    private static final Instant T0 = Instant.parse("2026-03-01T01:30:00Z");

    static Backup backup(String name, int day, BackupType type, BackupPhase phase) {
        Backup b = new Backup();
        Instant t = T0.plus(Duration.ofDays(day));
        b.setMetadata(new ObjectMetaBuilder().withName(name)
                .withLabels(Map.of(Labels.SCHEDULE_TIME, Long.toString(t.getEpochSecond()))).build());
        b.setSpec(new BackupSpec("p", "main", "n1", "/dev/sda", type));
        if (phase != null) {
            b.setStatus(new BackupStatus(phase, null, null, null, null, null, null, null, null, null, null, null,
                    null, null));
        }
        return b;
    }

    private static BackupPolicySpec spec(Integer activeFullIntervalDays) {
        return new BackupPolicySpec("main", null, List.of(new BackupPolicySpec.DeviceSelector("/dev/sda")),
                "30 1 * * *", null, null, activeFullIntervalDays, null, null, null, null, null, 1, false, 10, 5);
    }

    @Test
    void firstBackupIsAnActiveFullOnlyWhenThePolicyAsksForThem() {
        assertThat(BackupPolicyReconciler.activeFullDue(spec(7), List.of(), T0)).isTrue();
        assertThat(BackupPolicyReconciler.activeFullDue(spec(null), List.of(), T0)).isFalse();
    }

    @Test
    void activeFullIsDueWhenTheLastOneIsOlderThanTheInterval() {
        List<Backup> history = List.of(backup("full", 0, BackupType.Full, BackupPhase.Succeeded),
                backup("inc", 1, BackupType.Auto, BackupPhase.Succeeded));
        assertThat(BackupPolicyReconciler.activeFullDue(spec(7), history, T0.plus(Duration.ofDays(6)))).isFalse();
        assertThat(BackupPolicyReconciler.activeFullDue(spec(7), history, T0.plus(Duration.ofDays(7)))).isTrue();
    }

    @Test
    void aPendingFullCountsAFailedOneDoesNot() {
        assertThat(BackupPolicyReconciler.activeFullDue(spec(7),
                List.of(backup("pending", 0, BackupType.Full, null)), T0.plus(Duration.ofDays(1)))).isFalse();
        assertThat(BackupPolicyReconciler.activeFullDue(spec(7),
                List.of(backup("failed", 0, BackupType.Full, BackupPhase.Failed)), T0.plus(Duration.ofDays(1))))
                .isTrue();
    }

    @Test
    void historyKeepsTheNewestOfEachResultTheLastFullAndEverythingUnfinished() {
        List<Backup> history = List.of(
                backup("d0-full", 0, BackupType.Full, BackupPhase.Succeeded),
                backup("d1", 1, BackupType.Auto, BackupPhase.Succeeded),
                backup("d2-failed", 2, BackupType.Auto, BackupPhase.Failed),
                backup("d3", 3, BackupType.Auto, BackupPhase.Succeeded),
                backup("d4-failed", 4, BackupType.Auto, BackupPhase.Failed),
                backup("d5", 5, BackupType.Auto, BackupPhase.Succeeded),
                backup("d6-running", 6, BackupType.Auto, BackupPhase.Running));
        assertThat(BackupHistory.beyondLimits(history, 2, 1)).extracting(b -> b.getMetadata().getName())
                .containsExactlyInAnyOrder("d1", "d2-failed");
        assertThat(BackupHistory.beyondLimits(history, 0, 0)).extracting(b -> b.getMetadata().getName())
                .containsExactlyInAnyOrder("d1", "d2-failed", "d3", "d4-failed", "d5");
    }
}
