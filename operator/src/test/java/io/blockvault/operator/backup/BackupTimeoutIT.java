package io.blockvault.operator.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.policy.AgentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operator fails Backups whose node is gone or whose agent stays silent, and only those. */
class BackupTimeoutIT extends OperatorTestBase {

    private static final String BACKUP = """
            apiVersion: blockvault.io/v1alpha1
            kind: Backup
            metadata:
              name: %s
            spec:
              repository: main
              nodeName: %s
              device: /dev/sda
            """;

    BackupTimeoutIT(KubernetesClient admin) {
        super(admin);
    }

    @Override
    protected OperatorSettings settings(OperatorSettings defaults) {
        return defaults.withTimeouts(Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMinutes(2));
    }

    private Backup get(String name) {
        return admin.resources(Backup.class).withName(name).get();
    }

    @Test
    void unclaimedBackupFailsWithAgentSilentAfterTheClaimTimeout() {
        Fixtures.node(admin, "t1", Map.of("blockvault-test", "true"));
        Fixtures.create(admin, Backup.class, BACKUP.formatted("unclaimed", "t1"));
        startOperator();
        clock.advance(Duration.ofMinutes(9));
        eventually().during(Duration.ofSeconds(1)).until(() -> get("unclaimed").getStatus() == null);

        clock.advance(Duration.ofMinutes(2));
        eventually().untilAsserted(() -> {
            var status = get("unclaimed").getStatus();
            assertThat(status.phase()).isEqualTo(BackupPhase.Failed);
            assertThat(status.reason()).isEqualTo("AgentSilent");
            assertThat(status.message()).contains("t1", "kubectl");
            assertThat(status.conditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("AgentSilent");
            });
        });
    }

    @Test
    void backupOnAMissingNodeFailsWithNodeLost() {
        Fixtures.create(admin, Backup.class, BACKUP.formatted("orphan", "no-such-node"));
        startOperator();
        clock.advance(Duration.ofMinutes(3));
        eventually().untilAsserted(() -> {
            assertThat(get("orphan").getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(get("orphan").getStatus().reason()).isEqualTo("NodeLost");
        });
    }

    @Test
    void runningBackupFailsOnlyWhenItsAgentStopsReporting() {
        Fixtures.node(admin, "t2", Map.of("blockvault-test", "true"));
        Backup running = Fixtures.create(admin, Backup.class, BACKUP.formatted("running", "t2"));
        startOperator();
        // The agent claims it and reports progress, with its own field manager.
        AgentStatus.apply(admin, running, Map.of("phase", "Running", "startTime", clock.instant().toString(),
                "progress", Map.of("percent", 10, "updateTime", clock.instant().plus(Duration.ofMinutes(4))
                        .toString())));
        clock.advance(Duration.ofMinutes(8));
        eventually().during(Duration.ofSeconds(1)).until(() -> get("running").getStatus().phase()
                == BackupPhase.Running);

        clock.advance(Duration.ofMinutes(2));
        eventually().untilAsserted(() -> {
            Backup b = get("running");
            assertThat(b.getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(b.getStatus().reason()).isEqualTo("AgentSilent");
            // The agent's progress stays as it wrote it; the operator took over only what it decided.
            assertThat(b.getStatus().progress().percent()).isEqualTo(10);
            assertThat(b.getMetadata().getManagedFields()).anySatisfy(m -> {
                assertThat(m.getManager()).isEqualTo(TimeoutFailure.FIELD_MANAGER);
                assertThat(m.getSubresource()).isEqualTo("status");
            });
        });
    }

    @Test
    void finishedBackupsAreLeftAloneAndCounted() {
        Fixtures.node(admin, "t3", Map.of("blockvault-test", "true"));
        Backup done = Fixtures.create(admin, Backup.class, BACKUP.formatted("done", "t3"));
        var operator = startOperator();
        AgentStatus.succeed(admin, done, clock.instant().plusSeconds(1));
        clock.advance(Duration.ofHours(1));
        eventually().untilAsserted(() -> assertThat(operator.registry().find("blockvault.backups")
                .tags("result", "Succeeded", "mode", "Cbt").counter()).isNotNull()
                .satisfies(c -> assertThat(c.count()).isEqualTo(1.0)));
        assertThat(operator.registry().find("blockvault.backup.last.success.timestamp.seconds")
                .tags("node", "t3", "device", "/dev/sda").gauge().value()).isPositive();
        assertThat(get("done").getStatus().phase()).isEqualTo(BackupPhase.Succeeded);
    }
}
