package io.blockvault.operator.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Progress;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.api.v1alpha1.RestoreStatus;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentTimeoutsTest {

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

    private static AgentTimeouts.Work work(BackupStatus status) {
        return AgentTimeouts.Work.of(backup(status));
    }

    private static AgentTimeouts.Work restore(RestoreSpec.Target target, RestoreStatus status) {
        Restore r = new Restore();
        r.setMetadata(new ObjectMetaBuilder().withName("r").withCreationTimestamp(CREATED.toString()).build());
        r.setSpec(new RestoreSpec("main", new RestoreSpec.Source(null, "p1"), target, false));
        r.setStatus(status);
        return AgentTimeouts.Work.of(r);
    }

    private static RestoreStatus restoreStatus(BackupPhase phase, String reason, Instant updated) {
        return new RestoreStatus(phase, "p1", false, CREATED.toString(), null,
                new Progress(null, null, null, null, 5, null, null, updated.toString()), reason, null, null);
    }

    private static final RestoreSpec.Target DEVICE = new RestoreSpec.Target("n1", "/dev/sdb", null, null);
    private static final RestoreSpec.Target PVC = new RestoreSpec.Target(null, null, null,
            new RestoreSpec.PvcTarget("apps", "data"));

    private static Optional<Node> node(String ready, Instant since) {
        NodeBuilder n = new NodeBuilder().withNewMetadata().withName("n1").endMetadata();
        if (ready != null) {
            n.withNewStatus().addNewCondition().withType("Ready").withStatus(ready)
                    .withLastTransitionTime(since.toString()).endCondition().endStatus();
        }
        return Optional.of(n.build());
    }

    private static BackupStatus running(Instant updated) {
        return new BackupStatus(BackupPhase.Running, null, null, null, null, null, null, CREATED.toString(), null, null,
                new Progress(null, null, null, null, 5, null, null, updated.toString()), null, null, null);
    }

    @Test
    void pendingBackupWaitsForTheClaimTimeoutThenBlamesTheAgent() {
        var early = AgentTimeouts.evaluate(work(null), node(null, null), CREATED.plusSeconds(540), SETTINGS);
        assertThat(early.timeout()).isEmpty();
        assertThat(early.recheckAfter()).hasValueSatisfying(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(60)));
        assertThat(AgentTimeouts.evaluate(work(null), node(null, null), CREATED.plusSeconds(600), SETTINGS)
                .timeout()).hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("AgentSilent"));
    }

    @Test
    void runningBackupFailsOnlyAfterItsLastProgressIsTooOld() {
        Instant updated = CREATED.plus(Duration.ofMinutes(30));
        assertThat(AgentTimeouts.evaluate(work(running(updated)), node("True", CREATED),
                updated.plus(Duration.ofMinutes(4)), SETTINGS).timeout()).isEmpty();
        assertThat(AgentTimeouts.evaluate(work(running(updated)), node("True", CREATED),
                updated.plus(Duration.ofMinutes(5)), SETTINGS).timeout())
                .hasValueSatisfying(t -> assertThat(t.message()).contains("n1", updated.toString()));
    }

    @Test
    void aNodeGoneOrNotReadyBeyondTheGraceIsLost() {
        Instant now = CREATED.plus(Duration.ofMinutes(3));
        assertThat(AgentTimeouts.evaluate(work(running(now)), Optional.empty(), now, SETTINGS).timeout())
                .hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("NodeLost"));
        assertThat(AgentTimeouts.evaluate(work(running(now)), node("Unknown", now.minusSeconds(60)), now,
                SETTINGS).timeout()).isEmpty();
        assertThat(AgentTimeouts.evaluate(work(running(now)), node("Unknown", now.minusSeconds(121)), now,
                SETTINGS).timeout()).hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("NodeLost"));
    }

    @Test
    void restoresHaveTheSameLimitsAndSayWhatToDo() {
        var early = AgentTimeouts.evaluate(restore(DEVICE, null), node("True", CREATED), CREATED.plusSeconds(599),
                SETTINGS);
        assertThat(early.timeout()).isEmpty();
        assertThat(early.recheckAfter()).hasValue(Duration.ofSeconds(1));
        assertThat(AgentTimeouts.evaluate(restore(DEVICE, null), node("True", CREATED), CREATED.plusSeconds(600),
                SETTINGS).timeout()).hasValueSatisfying(t -> {
                    assertThat(t.reason()).isEqualTo("AgentSilent");
                    assertThat(t.message()).contains("restore", "n1", "kubectl");
                });
        Instant updated = CREATED.plus(Duration.ofMinutes(30));
        assertThat(AgentTimeouts.evaluate(restore(DEVICE, restoreStatus(BackupPhase.Running, null, updated)),
                node("True", CREATED), updated.plus(Duration.ofMinutes(5)), SETTINGS).timeout())
                .hasValueSatisfying(t -> assertThat(t.message()).contains(updated.toString(), "partly written"));
        assertThat(AgentTimeouts.evaluate(restore(DEVICE, null), Optional.empty(), CREATED.plusSeconds(120),
                SETTINGS).timeout()).hasValueSatisfying(t -> assertThat(t.reason()).isEqualTo("NodeLost"));
    }

    @Test
    void aRestoreWithoutANodeIsNeverLostButTimesOutUnclaimed() {
        assertThat(AgentTimeouts.evaluate(restore(PVC, null), Optional.empty(), CREATED.plusSeconds(599), SETTINGS)
                .timeout()).isEmpty();
        assertThat(AgentTimeouts.evaluate(restore(PVC, null), Optional.empty(), CREATED.plusSeconds(600), SETTINGS)
                .timeout()).hasValueSatisfying(t -> {
                    assertThat(t.reason()).isEqualTo("AgentSilent");
                    assertThat(t.message()).contains("spec.target.nodeName", "spec.target.device");
                });
    }

    @Test
    void finishedWorkIsNeverTimedOutWhoeverFinishedIt() {
        Instant late = CREATED.plus(Duration.ofDays(30));
        for (BackupPhase phase : new BackupPhase[] {BackupPhase.Succeeded, BackupPhase.Failed}) {
            // e.g. the agent failed a PVC Restore with PvcRestoreUnsupported; the node is gone meanwhile
            var verdict = AgentTimeouts.evaluate(restore(DEVICE, restoreStatus(phase, "PvcRestoreUnsupported",
                    CREATED)), Optional.empty(), late, SETTINGS);
            assertThat(verdict.timeout()).isEmpty();
            assertThat(verdict.recheckAfter()).isEmpty();
        }
    }
}
