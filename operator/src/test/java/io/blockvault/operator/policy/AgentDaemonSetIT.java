package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The policy's agent DaemonSet: created with the security settings, updated, removed with the policy. */
class AgentDaemonSetIT extends OperatorTestBase {

    AgentDaemonSetIT(KubernetesClient admin) {
        super(admin);
    }

    private DaemonSet daemonSet() {
        return admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).withName("edge-agent").get();
    }

    @Test
    void daemonSetFollowsThePolicy() {
        externalRepository("main");
        BackupPolicy policy = Fixtures.create(admin, BackupPolicy.class, """
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
                  diffStorage:
                    directory: /var/lib/bv-diff
                """);
        startOperator();
        eventually().until(() -> daemonSet() != null);
        DaemonSet ds = daemonSet();

        assertThat(ds.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
            assertThat(o.getKind()).isEqualTo("BackupPolicy");
            assertThat(o.getName()).isEqualTo("edge");
            assertThat(o.getUid()).isEqualTo(policy.getMetadata().getUid());
        });
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo(settings.agentServiceAccount());
        assertThat(pod.getNodeSelector()).isEqualTo(Map.of("pool", "edge"));
        var term = pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().get(0).getMatchExpressions().get(0);
        assertThat(term.getKey()).isEqualTo("disk");
        assertThat(term.getOperator()).isEqualTo("In");
        assertThat(term.getValues()).containsExactly("nvme", "ssd");
        assertThat(pod.getHostPID()).isNotEqualTo(Boolean.TRUE);

        Map<String, String> hostPaths = pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
                .collect(Collectors.toMap(Volume::getName, v -> v.getHostPath().getPath()));
        assertThat(hostPaths).containsEntry("dev", "/dev").containsEntry("lib-modules", "/lib/modules")
                .containsEntry("usr-src", "/usr/src").containsEntry("diff-storage", "/var/lib/bv-diff");

        Container init = pod.getInitContainers().get(0);
        assertThat(init.getName()).isEqualTo("dkms");
        assertThat(init.getImage()).isEqualTo(settings.dkmsImage());
        assertThat(init.getSecurityContext().getPrivileged()).isTrue();
        assertThat(mounts(init)).containsEntry("/lib/modules", false).containsEntry("/usr/src", false);

        Container agent = pod.getContainers().get(0);
        assertThat(pod.getContainers()).hasSize(1);
        assertThat(agent.getImage()).isEqualTo(settings.agentImage());
        assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
        assertThat(mounts(agent)).containsEntry("/dev", false).containsEntry("/lib/modules", true)
                .containsEntry("/usr/src", true).containsEntry("/var/lib/bv-diff", false);
        assertThat(agent.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals("/dev"))
                .extracting(VolumeMount::getMountPropagation).containsExactly("HostToContainer");
        assertThat(agent.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });

        // A spec change reaches the DaemonSet.
        admin.resources(BackupPolicy.class).withName("edge").edit(p -> {
            p.getSpec().nodeSelector().getMatchLabels().put("pool", "edge-2");
            return p;
        });
        eventually().until(() -> "edge-2".equals(daemonSet().getSpec().getTemplate().getSpec().getNodeSelector()
                .get("pool")));

        // Deleting the policy removes the DaemonSet (explicitly: no garbage collector runs here).
        admin.resources(BackupPolicy.class).withName("edge").delete();
        eventually().until(() -> daemonSet() == null && admin.resources(BackupPolicy.class).withName("edge").get()
                == null);
    }

    private static Map<String, Boolean> mounts(Container c) {
        return c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath,
                m -> Boolean.TRUE.equals(m.getReadOnly())));
    }
}
