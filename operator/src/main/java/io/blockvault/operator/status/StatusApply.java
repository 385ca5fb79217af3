package io.blockvault.operator.status;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;

/**
 * Server-side apply of some status fields of a Backup or Restore under one field manager. Forced:
 * each manager is one part of the operator's alone and names only its own fields, so the agent's
 * and the other managers' fields stay theirs.
 */
public final class StatusApply {

    private StatusApply() {
    }

    public static void apply(KubernetesClient client, HasMetadata resource, String fieldManager,
            Map<String, ?> fields) {
        apply(client, resource, fieldManager, fields, null);
    }

    /**
     * With {@code resourceVersion}: the API server refuses the apply with a conflict (409) when the
     * object changed after that version was read.
     */
    public static void apply(KubernetesClient client, HasMetadata resource, String fieldManager,
            Map<String, ?> fields, String resourceVersion) {
        GenericKubernetesResource patch = new GenericKubernetesResource();
        patch.setApiVersion(resource.getApiVersion());
        patch.setKind(resource.getKind());
        patch.setMetadata(new ObjectMetaBuilder().withName(resource.getMetadata().getName())
                .withResourceVersion(resourceVersion).build());
        patch.setAdditionalProperty("status", fields);
        client.resource(patch).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(fieldManager).withForce(true).build());
    }
}
