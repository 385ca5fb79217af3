package io.blockvault.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A component's identity in tests: a ServiceAccount bound to exactly the roles of a file the Helm
 * chart ships, and a client that impersonates it. The operator's and the agent's tests run as theirs,
 * so a rule a component needs and the chart lacks fails a test.
 */
public record ServiceAccountIdentity(String namespace, String serviceAccount) {

    /** The ClusterRoles and Roles of {@code file}; nothing else belongs there. */
    public static List<HasMetadata> roles(KubernetesClient admin, Path file) {
        List<HasMetadata> objects;
        try (InputStream in = Files.newInputStream(file)) {
            objects = admin.load(in).items();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
        for (HasMetadata object : objects) {
            if (!(object instanceof ClusterRole) && !(object instanceof Role)) {
                throw new IllegalStateException(file + " holds a " + object.getKind()
                        + "; only ClusterRoles and Roles belong there");
            }
        }
        return objects;
    }

    /**
     * Creates (idempotently) the namespace, the ServiceAccount, {@code roles} and a binding of each
     * to it (a Role in the identity's namespace).
     */
    public void install(KubernetesClient admin, List<HasMetadata> roles) {
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
                .serverSideApply();
        admin.resource(new ServiceAccountBuilder().withNewMetadata().withName(serviceAccount)
                .withNamespace(namespace).endMetadata().build()).serverSideApply();
        for (HasMetadata object : roles) {
            String name = object.getMetadata().getName();
            if (object instanceof ClusterRole role) {
                admin.resource(role).forceConflicts().serverSideApply();
                admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
                        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                        .withName(name).endRoleRef()
                        .addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(namespace)
                        .endSubject().build()).forceConflicts().serverSideApply();
            } else {
                object.getMetadata().setNamespace(namespace);
                admin.resource((Role) object).forceConflicts().serverSideApply();
                admin.resource(new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                        .endMetadata()
                        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                        .withName(name).endRoleRef()
                        .addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(namespace)
                        .endSubject().build()).forceConflicts().serverSideApply();
            }
        }
    }

    /** A client of the admin's connection that acts as the ServiceAccount. */
    public KubernetesClient impersonatingClient(KubernetesClient admin) {
        Config config = new ConfigBuilder(admin.getConfiguration())
                .withImpersonateUsername("system:serviceaccount:" + namespace + ":" + serviceAccount)
                .withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + namespace,
                        "system:authenticated")
                .withNamespace(namespace)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
