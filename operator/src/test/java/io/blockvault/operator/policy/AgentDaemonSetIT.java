package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
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
                  bandwidthLimitMiBps: 40
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
                .containsEntry("usr-src", "/usr/src").containsEntry("diff-storage", "/var/lib/bv-diff")
                .containsEntry("restore-files", "/var/lib/blockvault/restore");
        assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("restore-files"))
                .extracting(v -> v.getHostPath().getType()).containsExactly("DirectoryOrCreate");

        Container init = pod.getInitContainers().get(0);
        assertThat(init.getName()).isEqualTo("dkms");
        assertThat(init.getImage()).isEqualTo(settings.dkmsImage());
        assertThat(init.getSecurityContext().getPrivileged()).isTrue();
        assertThat(init.getArgs()).containsExactly("build-and-load", "--state-file=/run/blockvault/module-state",
                "--continue-without-modules");
        assertThat(mounts(init)).containsEntry("/lib/modules", false).containsEntry("/usr/src", false)
                .containsEntry("/var/lib/dkms", false).containsEntry("/dev", false)
                .containsEntry("/run/blockvault", false);

        Container agent = pod.getContainers().get(0);
        assertThat(pod.getContainers()).hasSize(1);
        assertThat(agent.getImage()).isEqualTo(settings.agentImage());
        assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
        assertThat(mounts(agent)).containsEntry("/dev", false).containsEntry("/lib/modules", true)
                .containsEntry("/usr/src", true).containsEntry("/var/lib/bv-diff", false)
                .containsEntry("/run/blockvault", true).containsEntry("/etc/blockvault/repository-ca", true)
                .containsEntry("/var/run/secrets/blockvault/repository", true)
                .containsEntry("/etc/blockvault/keys", true).containsEntry("/var/lib/blockvault/restore", false);
        // The arguments, as the apiserver stored them (AgentDaemonSetTest parses them with the agent's CLI).
        assertThat(agent.getArgs()).containsExactly("run", "--node-name=$(NODE_NAME)", "--repository-name=main",
                "--policy-name=edge", "--repository=repo.example.org:6162",
                "--ca-file=/etc/blockvault/repository-ca/ca.crt",
                "--token-file=/var/run/secrets/blockvault/repository/token", "--key-dir=/etc/blockvault/keys",
                "--diff-storage=/var/lib/bv-diff", "--module-state-file=/run/blockvault/module-state",
                "--restore-file-dir=/var/lib/blockvault/restore",
                "--diff-limit-mib=4096", "--concurrency=1", // the CRD's defaults of the policy
                "--bandwidth-limit-mibps=40");

        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        // External repository: its CA bundle travels in a pod annotation, projected as a file.
        assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsKey(AgentDaemonSetDependent.CA_BUNDLE_ANNOTATION);
        assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations()
                .get(AgentDaemonSetDependent.CA_BUNDLE_ANNOTATION)).contains("BEGIN CERTIFICATE");
        assertThat(volumes.get("repository-ca").getDownwardAPI().getItems()).singleElement().satisfies(i -> {
            assertThat(i.getPath()).isEqualTo("ca.crt");
            assertThat(i.getFieldRef().getFieldPath())
                    .isEqualTo("metadata.annotations['blockvault.io/repository-ca-bundle']");
        });
        var token = volumes.get("repository-token").getProjected().getSources().get(0).getServiceAccountToken();
        assertThat(token.getAudience()).isEqualTo("blockvault-repository");
        assertThat(token.getExpirationSeconds()).isEqualTo(3600L);
        assertThat(token.getPath()).isEqualTo("token");
        var keys = volumes.get("encryption-keys").getSecret();
        assertThat(keys.getSecretName()).isEqualTo("main-repository-encryption-key");
        assertThat(keys.getDefaultMode()).isEqualTo(0400);
        assertThat(volumes.get("module-state").getEmptyDir()).isNotNull();
        assertThat(agent.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals("/dev"))
                .extracting(VolumeMount::getMountPropagation).containsExactly("HostToContainer");
        assertThat(agent.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });

        // A spec change reaches the DaemonSet.
        Fixtures.edit(admin, BackupPolicy.class, "edge", p -> {
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

    /** A managed repository: its Service and only the certificate of its CA Secret (not the CA's key). */
    @Test
    void managedRepositoryIsReachedThroughItsServiceWithItsCaCertificate() {
        Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: vault
                spec:
                  mode: Managed
                """);
        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: core
                spec:
                  repository: vault
                  devices:
                    - path: /dev/sdb
                  schedule: "@daily"
                """);
        startOperator();
        eventually().until(() -> admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE)
                .withName("core-agent").get() != null);
        DaemonSet ds = admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).withName("core-agent").get();
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        Container agent = pod.getContainers().get(0);
        assertThat(agent.getArgs()).contains("--repository-name=vault", "--policy-name=core",
                "--repository=vault-repository." + OperatorIdentity.NAMESPACE + ".svc:6162",
                "--diff-storage=/var/lib/blockvault/diff");
        // No bandwidthLimitMiBps in the policy: the agent uploads unlimited.
        assertThat(agent.getArgs()).noneMatch(a -> a.startsWith("--bandwidth-limit-mibps"));
        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        var ca = volumes.get("repository-ca").getSecret();
        assertThat(ca.getSecretName()).isEqualTo("vault-repository-ca");
        assertThat(ca.getItems()).singleElement().satisfies(i -> {
            assertThat(i.getKey()).isEqualTo("tls.crt");
            assertThat(i.getPath()).isEqualTo("ca.crt");
        });
        assertThat(volumes.get("encryption-keys").getSecret().getSecretName())
                .isEqualTo("vault-repository-encryption-key");
        Map<String, String> annotations = ds.getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(annotations == null ? Map.of() : annotations)
                .doesNotContainKey(AgentDaemonSetDependent.CA_BUNDLE_ANNOTATION);
        admin.resources(BackupPolicy.class).withName("core").delete();
        eventually().until(() -> admin.resources(BackupPolicy.class).withName("core").get() == null);
    }

    private static Map<String, Boolean> mounts(Container c) {
        return c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath,
                m -> Boolean.TRUE.equals(m.getReadOnly())));
    }
}
