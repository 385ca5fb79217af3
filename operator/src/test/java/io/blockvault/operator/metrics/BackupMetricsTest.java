package io.blockvault.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Progress;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackupMetricsTest {

    private static final Instant START = Instant.parse("2026-03-01T00:00:00Z");

    private static Backup backup(String uid, String node, BackupPhase phase, BackupMode mode, String reason,
            Instant start, Instant end) {
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName(uid).withUid(uid).build());
        b.setSpec(new BackupSpec("p", "main", node, "/dev/sda", BackupType.Auto));
        b.setStatus(new BackupStatus(phase, mode, null, null, null, null, null, start == null ? null : start.toString(),
                end == null ? null : end.toString(), null, new Progress(1000L, 1000L, 100L, 40L, 100, null, null,
                        null), reason, null, null));
        return b;
    }

    @Test
    void finishedBackupsAreCountedOnceWithBytesDurationAndLastSuccess() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BackupMetrics metrics = new BackupMetrics(registry, START);
        Backup ok = backup("u1", "n1", BackupPhase.Succeeded, BackupMode.Cbt, null, START.plusSeconds(10),
                START.plusSeconds(70));
        metrics.observe(ok);
        metrics.observe(ok); // the same Backup seen again (resync, another event)
        metrics.observe(backup("u2", "n1", BackupPhase.Failed, BackupMode.FullScan, "AgentSilent",
                START.plusSeconds(100), START.plusSeconds(200)));
        metrics.observe(backup("u3", "n1", BackupPhase.Running, null, null, START, null));

        assertThat(registry.get("blockvault.backups").tags("result", "Succeeded", "mode", "Cbt").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("blockvault.backups").tags("result", "Failed", "mode", "FullScan").counter()
                .count()).isEqualTo(1);
        assertThat(registry.get("blockvault.backup.failures").tags("reason", "AgentSilent").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("blockvault.backup.bytes").tags("kind", "sent").summary().totalAmount())
                .isEqualTo(80);
        assertThat(registry.get("blockvault.backup.duration").tags("result", "Succeeded").timer()
                .totalTime(TimeUnit.SECONDS)).isEqualTo(60);
        assertThat(registry.get("blockvault.backup.last.success.timestamp.seconds").tags("node", "n1", "device",
                "/dev/sda").gauge().value()).isEqualTo(START.plusSeconds(70).getEpochSecond());
    }

    @Test
    void historyFinishedBeforeTheOperatorStartedIsNotCountedAgainButSetsLastSuccess() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BackupMetrics metrics = new BackupMetrics(registry, START);
        metrics.observe(backup("old", "n2", BackupPhase.Succeeded, BackupMode.Cbt, null, START.minusSeconds(600),
                START.minusSeconds(300)));
        assertThat(registry.find("blockvault.backups").counter()).isNull();
        assertThat(registry.get("blockvault.backup.last.success.timestamp.seconds").tags("node", "n2").gauge()
                .value()).isEqualTo(START.minusSeconds(300).getEpochSecond());
    }
}
