package io.blockvault.operator.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
}
