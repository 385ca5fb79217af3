package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.Labels;
import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * One agent DaemonSet for all policies, on the real apiserver with the operator running: it serves
 * exactly the valid policies (their repositories, difference storage and nodes), follows their
 * edits and deletions, and goes with the last of them; an invalid policy creates nothing.
 */
class AgentDaemonSetIT extends OperatorTestBase {

    AgentDaemonSetIT(KubernetesClient admin) {
        super(admin);
    }

    private DaemonSet daemonSet() {
        return admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).withName(AgentDaemonSet.NAME).get();
    }

    private List<String> daemonSetNames() {
        return admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).list().getItems().stream()
                .map(d -> d.getMetadata().getName()).toList();
    }

    private static List<String> owners(DaemonSet ds) {
        return ds.getMetadata().getOwnerReferences().stream().map(OwnerReference::getName).sorted().toList();
    }

    private static List<String> repositories(DaemonSet ds) {
        return ds.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs().stream()
                .filter(a -> a.startsWith("--repository-name=")).map(a -> a.substring("--repository-name=".length()))
                .toList();
    }

    @Test
    void oneDaemonSetServesEveryValidPolicyAndGoesWithTheLast() {
        externalRepository("main");
        Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: vault
                spec:
                  mode: Managed
                """);
        BackupPolicy edge = Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: edge
                spec:
                  repository: main
                  nodeSelector:
                    matchLabels:
                      pool: edge
                    matchExpressions:
                      - key: disk
                        operator: In
                        values: [nvme, ssd]
                  devices:
                    - path: /dev/nvme0n1
                  schedule: "@daily"
                  concurrency: 3
                  diffStorage:
                    directory: /var/lib/bv-diff
                """);
        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: core
                spec:
                  repository: vault
                  nodeSelector:
                    matchLabels:
                      zone: b
                  devices:
                    - path: /dev/sdb
                  schedule: "@daily"
                """);
        // Names a repository that does not exist: invalid, so it adds nothing to the agents.
        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: lost
                spec:
                  repository: nowhere
                  devices:
                    - path: /dev/sdc
                  schedule: "@daily"
                """);
        // What an earlier operator left: one agent DaemonSet per policy. The upgrade removes it.
        admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).resource(new DaemonSetBuilder()
                .withNewMetadata().withName("edge-agent").withLabels(Labels.of(AgentDaemonSet.APP, "edge", "agent"))
                .endMetadata().withNewSpec().withNewSelector().addToMatchLabels("app", "old").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "old").endMetadata().withNewSpec()
                .addNewContainer().withName("agent").withImage("ghcr.io/blockvault/node-agent:0.1.0").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
        startOperator();
        eventually().until(() -> daemonSet() != null && owners(daemonSet()).equals(List.of("core", "edge")));
        eventually().until(() -> daemonSetNames().equals(List.of(AgentDaemonSet.NAME)));
        DaemonSet ds = daemonSet();
        assertThat(daemonSetNames()).containsExactly(AgentDaemonSet.NAME);
        assertThat(ds.getMetadata().getOwnerReferences()).filteredOn(o -> o.getName().equals("edge")).singleElement()
                .satisfies(o -> {
                    assertThat(o.getKind()).isEqualTo("BackupPolicy");
                    assertThat(o.getUid()).isEqualTo(edge.getMetadata().getUid());
                });
        assertThat(repositories(ds)).containsExactly("main", "vault");

        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo(settings.agentServiceAccount());
        assertThat(pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms()).hasSize(2);
        assertThat(pod.getHostPID()).isNotEqualTo(Boolean.TRUE);
        Map<String, String> hostPaths = pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
                .collect(Collectors.toMap(Volume::getName, v -> v.getHostPath().getPath()));
        assertThat(hostPaths).containsEntry("dev", "/dev").containsEntry("lib-modules", "/lib/modules")
                .containsEntry("usr-src", "/usr/src").containsEntry("restore-files", "/var/lib/blockvault/restore")
                .containsValues("/var/lib/bv-diff", "/var/lib/blockvault/diff");
        Container init = pod.getInitContainers().get(0);
        assertThat(init.getName()).isEqualTo("dkms");
        assertThat(init.getImage()).isEqualTo(settings.dkmsImage());
        assertThat(init.getSecurityContext().getPrivileged()).isTrue();
        assertThat(mounts(init)).containsEntry("/lib/modules", false).containsEntry("/usr/src", false)
                .containsEntry("/var/lib/dkms", false).containsEntry("/dev", false)
                .containsEntry("/run/blockvault", false);
        Container agent = pod.getContainers().get(0);
        assertThat(pod.getContainers()).hasSize(1);
        assertThat(agent.getImage()).isEqualTo(settings.agentImage());
        assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
        assertThat(agent.getArgs()).contains("--concurrency=3");
        assertThat(mounts(agent)).containsEntry("/dev", false).containsEntry("/lib/modules", true)
                .containsEntry("/var/lib/bv-diff", false).containsEntry("/var/lib/blockvault/diff", false)
                .containsEntry("/etc/blockvault/repositories/main/ca", true)
                .containsEntry("/etc/blockvault/repositories/vault/keys", true)
                .containsEntry("/var/run/secrets/blockvault/repository", true);
        assertThat(agent.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals("/dev"))
                .extracting(VolumeMount::getMountPropagation).as("none: a private /dev would refuse the pod")
                .containsOnlyNulls();

        // The repository the invalid policy named appears: now it is served too.
        externalRepository("nowhere");
        eventually().until(() -> owners(daemonSet()).equals(List.of("core", "edge", "lost")));
        assertThat(repositories(daemonSet())).containsExactly("main", "nowhere", "vault");

        // Deleting a policy drops what only it needed; the DaemonSet stays one.
        admin.resources(BackupPolicy.class).withName("edge").delete();
        eventually().until(() -> owners(daemonSet()).equals(List.of("core", "lost")));
        assertThat(repositories(daemonSet())).containsExactly("nowhere", "vault");
        assertThat(daemonSet().getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .contains("--concurrency=1");
        assertThat(daemonSetNames()).containsExactly(AgentDaemonSet.NAME);

        // With the last valid policy it goes (explicitly: no garbage collector runs here).
        admin.resources(BackupPolicy.class).withName("core").delete();
        admin.resources(BackupPolicy.class).withName("lost").delete();
        eventually().until(() -> daemonSet() == null && admin.resources(BackupPolicy.class).list().getItems()
                .isEmpty());
    }

    private static Map<String, Boolean> mounts(Container c) {
        return c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath,
                m -> Boolean.TRUE.equals(m.getReadOnly())));
    }
}
