package io.blockvault.agent.controller;

import io.blockvault.api.v1alpha1.Backup;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;

/**
 * Writes the agent's part of {@code Backup.status} by server-side apply under its own field
 * manager, so the operator's fields (its conditions, immutableUntil) stay untouched. Every apply
 * carries all the fields the agent owns at that point: a field left out would be removed.
 */
public final class StatusWriter {

    public static final String FIELD_MANAGER = "blockvault-agent";

    private final KubernetesClient client;

    public StatusWriter(KubernetesClient client) {
        this.client = client;
    }

    public void apply(String backupName, Map<String, Object> status) {
        GenericKubernetesResource patch = new GenericKubernetesResource();
        patch.setApiVersion(io.fabric8.kubernetes.api.model.HasMetadata.getApiVersion(Backup.class));
        patch.setKind(io.fabric8.kubernetes.api.model.HasMetadata.getKind(Backup.class));
        patch.setMetadata(new ObjectMetaBuilder().withName(backupName).build());
        patch.setAdditionalProperty("status", status);
        client.resource(patch).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(FIELD_MANAGER).withForce(true).build());
    }
}
