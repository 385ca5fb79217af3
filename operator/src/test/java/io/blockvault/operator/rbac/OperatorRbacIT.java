package io.blockvault.operator.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.Labels;
import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.status.ReconcileFailure;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Every operator IT runs the operator as the ServiceAccount bound to the shipped ClusterRole (so a
 * missing rule fails them); this one shows the identity is really that narrow.
 */
class OperatorRbacIT extends OperatorTestBase {

    OperatorRbacIT(KubernetesClient admin) {
        super(admin);
    }

    private boolean allowed(String group, String resource, String verb) {
        return allowed(group, resource, verb, OperatorIdentity.NAMESPACE);
    }

    private boolean allowed(String group, String resource, String verb, String namespace) {
        return operatorClient.authorization().v1().selfSubjectAccessReview()
                .create(new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                        .withGroup(group).withResource(resource).withVerb(verb)
                        .withNamespace(namespace).endResourceAttributes().endSpec().build())
                .getStatus().getAllowed();
    }

    @Test
    void theOperatorIdentityHasWhatItNeedsAndNothingElse() {
        assertThat(allowed("blockvault.io", "backups", "create")).isTrue();
        assertThat(allowed("apps", "daemonsets", "patch")).isTrue();
        assertThat(allowed("", "nodes", "list")).isTrue();
        assertThat(allowed("", "secrets", "list")).isTrue();
        // Secrets, Services and workloads only in its own namespace.
        assertThat(allowed("", "secrets", "list", "kube-system")).isFalse();
        assertThat(allowed("", "secrets", "get", "default")).isFalse();
        assertThat(allowed("apps", "daemonsets", "create", "default")).isFalse();
        // The uninstall hook: its own Deployment scaled to 0, pods listed while they end; nothing more.
        assertThat(allowed("apps", "deployments", "patch")).isTrue();
        assertThat(allowed("apps", "deployments", "patch", "default")).isFalse();
        assertThat(allowed("apps", "deployments", "create")).isFalse();
        assertThat(allowed("", "pods", "list")).isTrue();
        assertThat(allowed("", "pods", "watch")).isTrue();
        assertThat(allowed("", "pods", "delete")).isFalse();
        // Not granted: the operator never runs pods itself, never edits nodes, never touches CRDs or RBAC.
        assertThat(allowed("", "pods", "create")).isFalse();
        assertThat(allowed("", "nodes", "patch")).isFalse();
        assertThat(allowed("", "configmaps", "get")).isFalse();
        assertThat(allowed("apiextensions.k8s.io", "customresourcedefinitions", "create")).isFalse();
        assertThat(allowed("rbac.authorization.k8s.io", "clusterrolebindings", "create")).isFalse();
        assertThatThrownBy(() -> operatorClient.configMaps().inNamespace(OperatorIdentity.NAMESPACE)
                .resource(new ConfigMapBuilder().withNewMetadata().withName("x").endMetadata().build()).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }

    private Optional<Condition> degraded(String policy) {
        var status = admin.resources(BackupPolicy.class).withName(policy).get().getStatus();
        return status == null || status.conditions() == null ? Optional.empty()
                : status.conditions().stream().filter(c -> c.getType().equals("Degraded")).findFirst();
    }

    /** Without {@code create} on backups a policy's tick fails, and the policy names the verb; the rule back, it runs. */
    @Test
    void aPolicyWhoseOperatorMayNotCreateBackupsNamesTheMissingVerb() {
        ClusterRole role = admin.rbac().clusterRoles().withName(OperatorIdentity.SERVICE_ACCOUNT).get();
        role.getRules().stream().filter(r -> r.getResources().contains("backups"))
                .forEach(r -> r.setVerbs(r.getVerbs().stream().filter(v -> !v.equals("create")).toList()));
        admin.rbac().clusterRoles().resource(role).update();
        eventually().until(() -> !allowed("blockvault.io", "backups", "create"));

        Fixtures.node(admin, "r1", Map.of("blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: hourly
                spec:
                  repository: main
                  devices:
                    - path: /dev/vdb
                  schedule: "0 * * * *"
                """);
        startOperator();
        String next = eventually().until(() -> {
            var status = admin.resources(BackupPolicy.class).withName("hourly").get().getStatus();
            return status == null ? null : status.nextScheduleTime();
        }, java.util.Objects::nonNull);
        clock.set(Instant.parse(next).plusSeconds(5));

        eventually().untilAsserted(() -> assertThat(degraded("hourly")).hasValueSatisfying(c -> {
            assertThat(c.getReason()).isEqualTo(ReconcileFailure.FORBIDDEN);
            assertThat(c.getMessage()).contains("cannot create resource \"backups\"")
                    .contains("system:serviceaccount:" + OperatorIdentity.NAMESPACE + ":"
                            + OperatorIdentity.SERVICE_ACCOUNT);
        }));
        assertThat(admin.resources(Backup.class).withLabel(Labels.POLICY, "hourly").list().getItems()).isEmpty();

        OperatorIdentity.install(admin); // the shipped rules again, as helm upgrade does
        eventually().atMost(Duration.ofSeconds(90)).until(
                () -> admin.resources(Backup.class).withLabel(Labels.POLICY, "hourly").list().getItems().size() == 1);
        eventually().untilAsserted(() -> assertThat(degraded("hourly")).hasValueSatisfying(
                c -> assertThat(c.getReason()).isNotEqualTo(ReconcileFailure.FORBIDDEN)));
    }

    /** Without {@code create} on secrets a managed repository cannot get its CA; it says so, and recovers. */
    @Test
    void aRepositoryWhoseOperatorMayNotCreateSecretsNamesTheMissingVerb() {
        Role role = admin.rbac().roles().inNamespace(OperatorIdentity.NAMESPACE)
                .withName(OperatorIdentity.SERVICE_ACCOUNT).get();
        role.getRules().stream().filter(r -> r.getResources().contains("secrets"))
                .forEach(r -> r.setVerbs(r.getVerbs().stream().filter(v -> !v.equals("create")).toList()));
        admin.rbac().roles().resource(role).update();
        eventually().until(() -> !allowed("", "secrets", "create"));

        managedRepository("vault");
        startOperator();
        eventually().untilAsserted(() -> assertThat(repositoryCondition("vault", "Degraded")).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo(ReconcileFailure.FORBIDDEN);
            assertThat(c.getMessage()).contains("cannot create resource \"secrets\"")
                    .contains("system:serviceaccount:" + OperatorIdentity.NAMESPACE + ":"
                            + OperatorIdentity.SERVICE_ACCOUNT);
        }));
        assertThat(repositoryCondition("vault", "Ready")).hasValueSatisfying(c -> assertThat(c.getStatus())
                .isEqualTo("False"));

        OperatorIdentity.install(admin); // the shipped rules again, as helm upgrade does
        eventually().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            assertThat(admin.apps().statefulSets().inNamespace(OperatorIdentity.NAMESPACE)
                    .withName("vault-repository").get()).isNotNull();
            assertThat(repositoryCondition("vault", "Degraded")).hasValueSatisfying(
                    c -> assertThat(c.getReason()).isNotEqualTo(ReconcileFailure.FORBIDDEN));
        });
    }

    private Optional<Condition> repositoryCondition(String repository, String type) {
        var status = admin.resources(BackupRepository.class).withName(repository).get().getStatus();
        return status == null || status.conditions() == null ? Optional.empty()
                : status.conditions().stream().filter(c -> c.getType().equals(type)).findFirst();
    }
}
