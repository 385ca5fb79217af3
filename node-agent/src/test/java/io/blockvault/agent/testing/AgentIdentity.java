package io.blockvault.agent.testing;

import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * The node agent's identity in tests: a ServiceAccount bound to the ClusterRole of
 * {@code helm/blockvault/files/agent-rbac.yaml} (the rules the Helm chart ships), and a client that
 * impersonates it. The controller ITs run the agent with it, so a rule the agent needs and the chart
 * lacks fails them.
 */
public final class AgentIdentity {

    public static final String NAMESPACE = "blockvault-system";
    public static final String SERVICE_ACCOUNT = "blockvault-agent";

    private AgentIdentity() {
    }

    public static Path clusterRoleFile() {
        return ProjectPaths.root().resolve("helm/blockvault/files/agent-rbac.yaml");
    }

    /** The chart's ClusterRole as the file has it. */
    public static ClusterRole clusterRole(KubernetesClient admin) {
        try (InputStream in = Files.newInputStream(clusterRoleFile())) {
            return (ClusterRole) admin.load(in).items().get(0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + clusterRoleFile(), e);
        }
    }

    /** Creates (idempotently) the namespace, ServiceAccount, the chart's ClusterRole and its binding. */
    public static void install(KubernetesClient admin) {
        installWithout(admin, rule -> false);
    }

    /** As {@link #install}, with the chart's rules minus those {@code dropped} matches. */
    public static void installWithout(KubernetesClient admin, Predicate<PolicyRule> dropped) {
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .serverSideApply();
        admin.resource(new ServiceAccountBuilder().withNewMetadata().withName(SERVICE_ACCOUNT)
                .withNamespace(NAMESPACE).endMetadata().build()).serverSideApply();
        ClusterRole role = clusterRole(admin);
        List<PolicyRule> rules = role.getRules().stream().filter(dropped.negate()).toList();
        role.setRules(rules);
        admin.resource(role).forceConflicts().serverSideApply();
        String name = role.getMetadata().getName();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName(name).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(NAMESPACE)
                .endSubject().build()).forceConflicts().serverSideApply();
    }

    /** A client of the admin's connection that acts as the agent's ServiceAccount. */
    public static KubernetesClient impersonatingClient(KubernetesClient admin) {
        Config config = new ConfigBuilder(admin.getConfiguration())
                .withImpersonateUsername("system:serviceaccount:" + NAMESPACE + ":" + SERVICE_ACCOUNT)
                .withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + NAMESPACE,
                        "system:authenticated")
                .withNamespace(NAMESPACE)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Whether {@code agent} may {@code verb} the cluster-scoped blockvault.io {@code resource} now. */
    public static boolean allowed(KubernetesClient agent, String resource, String verb) {
        return agent.authorization().v1().selfSubjectAccessReview().create(
                new io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder().withNewSpec()
                        .withNewResourceAttributes().withGroup("blockvault.io").withResource(resource).withVerb(verb)
                        .endResourceAttributes().endSpec().build()).getStatus().getAllowed();
    }
}
