package io.blockvault.agent.testing;

import io.blockvault.testing.ProjectPaths;
import io.blockvault.testing.ServiceAccountIdentity;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
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

    private static final ServiceAccountIdentity IDENTITY = new ServiceAccountIdentity(NAMESPACE, SERVICE_ACCOUNT);

    /** Creates (idempotently) the namespace, ServiceAccount, the chart's ClusterRole and its binding. */
    public static void install(KubernetesClient admin) {
        installWithout(admin, rule -> false);
    }

    /** As {@link #install}, with the chart's rules minus those {@code dropped} matches. */
    public static void installWithout(KubernetesClient admin, Predicate<PolicyRule> dropped) {
        List<HasMetadata> roles = ServiceAccountIdentity.roles(admin, clusterRoleFile());
        for (HasMetadata role : roles) {
            ClusterRole clusterRole = (ClusterRole) role;
            clusterRole.setRules(clusterRole.getRules().stream().filter(dropped.negate()).toList());
        }
        IDENTITY.install(admin, roles);
    }

    /** A client of the admin's connection that acts as the agent's ServiceAccount. */
    public static KubernetesClient impersonatingClient(KubernetesClient admin) {
        return IDENTITY.impersonatingClient(admin);
    }

    /** Whether {@code agent} may {@code verb} the cluster-scoped blockvault.io {@code resource} now. */
    public static boolean allowed(KubernetesClient agent, String resource, String verb) {
        return agent.authorization().v1().selfSubjectAccessReview().create(
                new SelfSubjectAccessReviewBuilder().withNewSpec()
                        .withNewResourceAttributes().withGroup("blockvault.io").withResource(resource).withVerb(verb)
                        .endResourceAttributes().endSpec().build()).getStatus().getAllowed();
    }
}
