package io.blockvault.operator.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.backup.AgentTimeouts;
import io.blockvault.operator.backup.TimeoutFailure;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.policy.AgentStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator fails Restores whose node is lost or whose agent stays silent, with the Backup
 * limits, and leaves the agent's fields and finished Restores alone.
 */
class RestoreTimeoutIT extends OperatorTestBase {

    private static final String RESTORE = """
            apiVersion: blockvault.io/v1alpha1
            kind: Restore
            metadata:
              name: %s
            spec:
              repository: main
              source:
                restorePointId: p1
              target:
                nodeName: %s
                device: /dev/sdb
            """;

    RestoreTimeoutIT(KubernetesClient admin) {
        super(admin);
    }

    @Override
    protected OperatorSettings settings(OperatorSettings defaults) {
        return defaults.withTimeouts(Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMinutes(2));
    }

    private Restore get(String name) {
        return admin.resources(Restore.class).withName(name).get();
    }

    private static Condition condition(Restore r, String type) {
        return r.getStatus().conditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    private List<Event> events(Restore r) {
        return admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> r.getMetadata().getUid().equals(e.getInvolvedObject().getUid())).toList();
    }

    @Test
    void unclaimedRestoreFailsWithAgentSilentAfterTheClaimTimeout() {
        externalRepository("main");
        Fixtures.node(admin, "r1", Map.of("blockvault-test", "true"));
        Restore restore = Fixtures.create(admin, Restore.class, RESTORE.formatted("unclaimed", "r1"));
        startOperator();
        eventually().until(() -> "Validated".equals(condition(get("unclaimed"), "Degraded").getReason()));
        clock.advance(Duration.ofMinutes(9));
        eventually().during(Duration.ofSeconds(1)).until(() -> get("unclaimed").getStatus().phase() == null);

        clock.advance(Duration.ofMinutes(2));
        eventually().untilAsserted(() -> {
            Restore r = get("unclaimed");
            assertThat(r.getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(r.getStatus().reason()).isEqualTo("AgentSilent");
            assertThat(r.getStatus().message()).contains("r1", "kubectl");
            assertThat(r.getStatus().completionTime()).isNotNull();
            assertThat(condition(r, "Degraded")).satisfies(c -> {
                assertThat(c.getStatus()).isEqualTo("True");
                assertThat(c.getReason()).isEqualTo("AgentSilent");
            });
            assertThat(condition(r, "AgentProgressing")).satisfies(c -> {
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("AgentSilent");
            });
            assertThat(r.getMetadata().getManagedFields()).anySatisfy(m -> {
                assertThat(m.getManager()).isEqualTo(TimeoutFailure.FIELD_MANAGER);
                assertThat(m.getSubresource()).isEqualTo("status");
            });
            assertThat(events(restore)).singleElement().satisfies(e -> {
                assertThat(e.getType()).isEqualTo("Warning");
                assertThat(e.getReason()).isEqualTo("AgentSilent");
            });
        });
    }

    @Test
    void runningRestoreKeepsTheAgentsFieldsAndFailsOnlyWhenItsAgentStopsReporting() {
        externalRepository("main");
        Fixtures.node(admin, "r2", Map.of("blockvault-test", "true"));
        Restore restore = Fixtures.create(admin, Restore.class, RESTORE.formatted("running", "r2"));
        startOperator();
        eventually().until(() -> "Validated".equals(condition(get("running"), "Degraded").getReason()));
        // The agent claims it with its own field manager and condition, as the node agent's RestoreController does.
        Instant started = clock.instant();
        AgentStatus.apply(admin, restore, Map.of("phase", "Running", "restorePointId", "p1",
                "startTime", started.toString(),
                "progress", Map.of("percent", 10, "updateTime", started.plus(Duration.ofMinutes(4)).toString()),
                "conditions", List.of(Map.of("type", "AgentProgressing", "status", "True", "reason", "Running",
                        "message", "writing", "lastTransitionTime", started.toString()))));
        clock.advance(Duration.ofMinutes(8));
        eventually().during(Duration.ofSeconds(1)).untilAsserted(() -> {
            Restore r = get("running");
            assertThat(r.getStatus().phase()).isEqualTo(BackupPhase.Running);
            assertThat(condition(r, "AgentProgressing").getReason()).isEqualTo("Running");
            assertThat(condition(r, "Degraded").getReason()).isEqualTo("Validated");
        });

        clock.advance(Duration.ofMinutes(2));
        eventually().untilAsserted(() -> {
            Restore r = get("running");
            assertThat(r.getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(r.getStatus().reason()).isEqualTo("AgentSilent");
            assertThat(r.getStatus().message()).contains("partly written");
            // What only the agent decides stays as it wrote it.
            assertThat(r.getStatus().progress().percent()).isEqualTo(10);
            assertThat(r.getStatus().restorePointId()).isEqualTo("p1");
            assertThat(r.getStatus().startTime()).isEqualTo(started.toString());
            assertThat(condition(r, "Degraded").getReason()).isEqualTo("AgentSilent");
        });
    }

    @Test
    void restoreOnANodeNotReadyBeyondTheGraceFailsWithNodeLost() {
        externalRepository("main");
        Fixtures.node(admin, "r3", Map.of("blockvault-test", "true"));
        admin.nodes().withName("r3").editStatus(n -> {
            n.setStatus(new io.fabric8.kubernetes.api.model.NodeStatus());
            n.getStatus().setConditions(List.of(new NodeConditionBuilder().withType("Ready").withStatus("Unknown")
                    .withLastTransitionTime(clock.instant().toString()).build()));
            return n;
        });
        Fixtures.create(admin, Restore.class, RESTORE.formatted("stranded", "r3"));
        startOperator();
        clock.advance(Duration.ofMinutes(1));
        eventually().during(Duration.ofSeconds(1)).until(() -> get("stranded").getStatus().phase() == null);
        clock.advance(Duration.ofMinutes(2));
        eventually().untilAsserted(() -> {
            Restore r = get("stranded");
            assertThat(r.getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(r.getStatus().reason()).isEqualTo("NodeLost");
            assertThat(r.getStatus().message()).contains("r3", "not been Ready");
            assertThat(condition(r, "Degraded").getReason()).isEqualTo("NodeLost");
        });
    }

    @Test
    void aRestoreTheAgentFinishedIsLeftAsItIs() {
        externalRepository("main");
        Fixtures.node(admin, "r4", Map.of("blockvault-test", "true"));
        Restore pvc = Fixtures.create(admin, Restore.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: Restore
                metadata:
                  name: into-pvc
                spec:
                  repository: main
                  source:
                    restorePointId: p1
                  target:
                    nodeName: r4
                    pvc:
                      namespace: apps
                      name: data
                """);
        // The agent fails it at once, as the node agent does for a PVC target.
        AgentStatus.apply(admin, pvc, Map.of("phase", "Failed", "reason", "PvcRestoreUnsupported",
                "message", "not supported", "completionTime", clock.instant().toString(),
                "conditions", List.of(Map.of("type", "AgentProgressing", "status", "False",
                        "reason", "PvcRestoreUnsupported", "message", "not supported",
                        "lastTransitionTime", clock.instant().toString()))));
        admin.nodes().withName("r4").delete();
        startOperator();
        eventually().until(() -> get("into-pvc").getStatus().conditions().stream()
                .anyMatch(c -> c.getType().equals("Degraded")));
        clock.advance(Duration.ofHours(1));
        eventually().during(Duration.ofSeconds(2)).untilAsserted(() -> {
            Restore r = get("into-pvc");
            assertThat(r.getStatus().phase()).isEqualTo(BackupPhase.Failed);
            assertThat(r.getStatus().reason()).isEqualTo("PvcRestoreUnsupported");
            assertThat(condition(r, "AgentProgressing").getReason()).isEqualTo("PvcRestoreUnsupported");
            assertThat(r.getMetadata().getManagedFields())
                    .noneSatisfy(m -> assertThat(m.getManager()).isEqualTo(TimeoutFailure.FIELD_MANAGER));
        });
    }

    @Test
    void aTimeoutJudgedOnAStaleCopyWritesNothing() {
        externalRepository("main");
        Restore judged = Fixtures.create(admin, Restore.class, RESTORE.formatted("raced", "r5"));
        // The agent finishes it after the operator read its copy.
        AgentStatus.apply(admin, judged, Map.of("phase", "Succeeded", "completionTime", clock.instant().toString()));
        boolean written = TimeoutFailure.apply(operatorClient, judged,
                new AgentTimeouts.Timeout(AgentTimeouts.AGENT_SILENT, "too late"), List.of(), clock.instant());
        assertThat(written).isFalse();
        assertThat(get("raced").getStatus().phase()).isEqualTo(BackupPhase.Succeeded);
        // On the current copy it does write (the operator's RBAC allows it).
        assertThat(TimeoutFailure.apply(operatorClient, get("raced"),
                new AgentTimeouts.Timeout(AgentTimeouts.AGENT_SILENT, "now"), List.of(), clock.instant())).isTrue();
        assertThat(get("raced").getStatus().phase()).isEqualTo(BackupPhase.Failed);
    }
}
