package io.blockvault.operator;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.blockvault.testing.ProjectPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
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

    /** Creates (idempotently) the namespace, ServiceAccount, ClusterRole and binding. */
    public static void install(KubernetesClient admin) {
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .serverSideApply();
        admin.resource(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build())
                .serverSideApply();
        admin.resource(new ServiceAccountBuilder().withNewMetadata().withName(SERVICE_ACCOUNT)
                .withNamespace(NAMESPACE).endMetadata().build()).serverSideApply();
        List<HasMetadata> objects;
        try (InputStream in = Files.newInputStream(clusterRoleFile())) {
            objects = admin.load(in).items();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + clusterRoleFile(), e);
        }
        for (HasMetadata object : objects) {
            String name = object.getMetadata().getName();
            if (object instanceof ClusterRole role) {
                admin.resource(role).forceConflicts().serverSideApply();
                admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
                        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                        .withName(name).endRoleRef()
                        .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(NAMESPACE)
                        .endSubject().build()).forceConflicts().serverSideApply();
            } else if (object instanceof Role role) {
                role.getMetadata().setNamespace(NAMESPACE);
                admin.resource(role).forceConflicts().serverSideApply();
                admin.resource(new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE)
                        .endMetadata()
                        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                        .withName(name).endRoleRef()
                        .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(NAMESPACE)
                        .endSubject().build()).forceConflicts().serverSideApply();
            } else {
                throw new IllegalStateException(clusterRoleFile() + " holds a " + object.getKind()
                        + "; only a ClusterRole and a Role belong there");
            }
        }
    }

    /** A client of the admin's connection that acts as the operator's ServiceAccount. */
    public static KubernetesClient impersonatingClient(KubernetesClient admin) {
        Config config = new ConfigBuilder(admin.getConfiguration())
                .withImpersonateUsername("system:serviceaccount:" + NAMESPACE + ":" + SERVICE_ACCOUNT)
                .withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + NAMESPACE,
                        "system:authenticated")
                .withNamespace(NAMESPACE)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
