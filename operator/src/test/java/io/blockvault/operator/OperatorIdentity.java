package io.blockvault.operator;

import io.blockvault.testing.ProjectPaths;
import io.blockvault.testing.ServiceAccountIdentity;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;

/**
 * The operator's identity in tests: a ServiceAccount bound to the ClusterRole of
 * {@code helm/blockvault/files/operator-rbac.yaml} (the file the Helm chart
 * ships), and a client that impersonates it. Nothing more is granted, so a missing rule fails.
 */
public final class OperatorIdentity {

    public static final String NAMESPACE = "blockvault-system";
    public static final String SERVICE_ACCOUNT = "blockvault-operator";

    private OperatorIdentity() {
    }

    public static Path clusterRoleFile() {
        return ProjectPaths.root().resolve("helm/blockvault/files/operator-rbac.yaml");
    }

    private static final ServiceAccountIdentity IDENTITY = new ServiceAccountIdentity(NAMESPACE, SERVICE_ACCOUNT);

    /** Creates (idempotently) the namespace, ServiceAccount, ClusterRole, Role and bindings. */
    public static void install(KubernetesClient admin) {
        // The agents' DaemonSet lives in the operator's namespace; tests create objects in default too.
        admin.resource(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build())
                .serverSideApply();
        IDENTITY.install(admin, ServiceAccountIdentity.roles(admin, clusterRoleFile()));
    }

    /** A client of the admin's connection that acts as the operator's ServiceAccount. */
    public static KubernetesClient impersonatingClient(KubernetesClient admin) {
        return IDENTITY.impersonatingClient(admin);
    }
}
