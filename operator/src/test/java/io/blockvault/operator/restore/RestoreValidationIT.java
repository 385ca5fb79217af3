package io.blockvault.operator.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.policy.AgentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A Restore's conditions say what is missing, and turn when it appears. */
class RestoreValidationIT extends OperatorTestBase {

    private static final String RESTORE = """
            apiVersion: blockvault.io/v1alpha1
            kind: Restore
            metadata:
              name: back
            spec:
              repository: main
              source:
                backup: last-night
              target:
                nodeName: w1
                device: /dev/sdb
            """;
    private static final String BACKUP = """
            apiVersion: blockvault.io/v1alpha1
            kind: Backup
            metadata:
              name: last-night
            spec:
              repository: main
              nodeName: w1
              device: /dev/sda
            """;

    RestoreValidationIT(KubernetesClient admin) {
        super(admin);
    }

    private String degradedReason() {
        var status = admin.resources(Restore.class).withName("back").get().getStatus();
        if (status == null || status.conditions() == null) {
            return null;
        }
        return status.conditions().stream().filter(c -> c.getType().equals("Degraded")).findFirst()
                .map(c -> c.getReason()).orElse(null);
    }

    @Test
    void restoreIsValidatedStepByStep() {
        externalRepository("main");
        Fixtures.node(admin, "w1", Map.of("blockvault-test", "true"));
        Fixtures.create(admin, Restore.class, RESTORE);
        startOperator();
        eventually().until(() -> "BackupNotFound".equals(degradedReason()));

        Backup backup = Fixtures.create(admin, Backup.class, BACKUP);
        eventually().until(() -> "BackupNotSucceeded".equals(degradedReason()));
        AgentStatus.succeed(admin, backup, clock.instant());
        eventually().until(() -> "Validated".equals(degradedReason()));
    }

    /** A Restore the agent finished (its status has no reason) before the operator first saw it. */
    @Test
    void aRestoreTheAgentFinishedIsValidatedToo() {
        externalRepository("main");
        Fixtures.node(admin, "w1", Map.of("blockvault-test", "true"));
        Backup backup = Fixtures.create(admin, Backup.class, BACKUP);
        AgentStatus.succeed(admin, backup, clock.instant());
        Restore restore = Fixtures.create(admin, Restore.class, RESTORE);
        AgentStatus.apply(admin, restore, Map.of("phase", "Succeeded", "message", "written",
                "startTime", clock.instant().minusSeconds(5).toString(), "completionTime", clock.instant().toString()));
        startOperator();
        eventually().until(() -> "Validated".equals(degradedReason()));
    }
}
