package io.blockvault.operator.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Progress;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BackupTimeoutsTest {

    private static final Instant CREATED = Instant.parse("2026-03-01T01:00:00Z");
    private static final OperatorSettings SETTINGS = OperatorSettings.defaults("ns")
            .withTimeouts(Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMinutes(2));

    private static Backup backup(BackupStatus status) {
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName("b").withCreationTimestamp(CREATED.toString()).build());
        b.setSpec(new BackupSpec(null, "main", "n1", "/dev/sda", BackupType.Auto));
        b.setStatus(status);
        return b;
    }

    private static Optional<Node> node(String ready, Instant since) {
        NodeBuilder n = new NodeBuilder().withNewMetadata().withName("n1").endMetadata();
        if (ready != null) {
            n.withNewStatus().addNewCondition().withType("Ready").withStatus(ready)
                    .withLastTransitionTime(since.toString()).endCondition().endStatus();
        }
        return Optional.of(n.build());
    }

    private static BackupStatus running(Instant updated) {
        return new BackupStatus(BackupPhase.Running, null, null, null, null, null, CREATED.toString(), null, null,
                new Progress(null, null, null, null, 5, null, null, updated.toString()), null, null, null);
    }

    @Test
    void pendingBackupWaitsForTheClaimTimeoutThenBlamesTheAgent() {
        var early = BackupTimeouts.evaluate(backup(null), node(null, null), CREATED.plusSeconds(540), SETTINGS);
        assertThat(early.timeout()).isEmpty();
        assertThat(early.recheckAfter()).isLessThanOrEqualTo(Duration.ofSeconds(60));
        assertThat(BackupTimeouts.evaluate(backup(null), node(null, null), CREATED.plusSeconds(600), SETTINGS)
                .timeout()).hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("AgentSilent"));
    }

    @Test
    void runningBackupFailsOnlyAfterItsLastProgressIsTooOld() {
        Instant updated = CREATED.plus(Duration.ofMinutes(30));
        assertThat(BackupTimeouts.evaluate(backup(running(updated)), node("True", CREATED),
                updated.plus(Duration.ofMinutes(4)), SETTINGS).timeout()).isEmpty();
        assertThat(BackupTimeouts.evaluate(backup(running(updated)), node("True", CREATED),
                updated.plus(Duration.ofMinutes(5)), SETTINGS).timeout())
                .hasValueSatisfying(t -> assertThat(t.message()).contains("n1", updated.toString()));
    }

    @Test
    void aNodeGoneOrNotReadyBeyondTheGraceIsLost() {
        Instant now = CREATED.plus(Duration.ofMinutes(3));
        assertThat(BackupTimeouts.evaluate(backup(running(now)), Optional.empty(), now, SETTINGS).timeout())
                .hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("NodeLost"));
        assertThat(BackupTimeouts.evaluate(backup(running(now)), node("Unknown", now.minusSeconds(60)), now,
                SETTINGS).timeout()).isEmpty();
        assertThat(BackupTimeouts.evaluate(backup(running(now)), node("Unknown", now.minusSeconds(121)), now,
                SETTINGS).timeout()).hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("NodeLost"));
    }
}
