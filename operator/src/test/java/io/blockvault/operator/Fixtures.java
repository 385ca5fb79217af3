package io.blockvault.operator;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.Restore;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Objects the ITs create with the admin client, and removing them again. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Node node(KubernetesClient admin, String name, Map<String, String> labels) {
        return admin.resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .build()).serverSideApply();
    }

    public static <T extends HasMetadata> T create(KubernetesClient admin, Class<T> type, String yaml) {
        T object = admin.getKubernetesSerialization().unmarshal(yaml, type);
        return admin.resource(object).create();
    }

    /** Deletes every object of our kinds, first stripping finalizers so that nothing waits on an operator. */
    /**
     * Changes a user's object the way {@code kubectl edit} does, again on a conflict: the operator
     * writes status and finalizers concurrently, and an edit is an optimistic-locking patch.
     */
    public static <T extends HasMetadata> T edit(KubernetesClient admin, Class<T> type, String name,
            UnaryOperator<T> change) {
        for (int attempt = 1;; attempt++) {
            try {
                return admin.resources(type).withName(name).edit(change);
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 10) {
                    throw e;
                }
            }
        }
    }

    public static void deleteAll(KubernetesClient admin) {
        for (Class<? extends HasMetadata> type : List.of(BackupPolicy.class, Backup.class, BackupRepository.class,
                Restore.class)) {
            for (HasMetadata o : admin.resources(type).list().getItems()) {
                stripFinalizersAndDelete(admin, o);
            }
        }
        admin.nodes().withLabel("blockvault-test").delete();
        admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE).delete();
        admin.apps().statefulSets().inNamespace(OperatorIdentity.NAMESPACE).delete();
        admin.services().inNamespace(OperatorIdentity.NAMESPACE).delete();
        admin.secrets().inNamespace(OperatorIdentity.NAMESPACE).withLabel("app.kubernetes.io/managed-by").delete();
    }

    private static void stripFinalizersAndDelete(KubernetesClient admin, HasMetadata o) {
        try {
            if (o.getMetadata().getFinalizers() != null && !o.getMetadata().getFinalizers().isEmpty()) {
                admin.resource(o).edit(x -> {
                    x.getMetadata().setFinalizers(null);
                    return x;
                });
            }
            admin.resource(o).withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404 && e.getCode() != 409) {
                throw e;
            }
        }
    }
}
