package io.blockvault.agent.controller;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the agent's part of a Backup's or Restore's {@code status} by server-side apply under its
 * own field manager, so the operator's fields (its conditions, immutableUntil) stay untouched. Every
 * apply carries all the fields the agent owns at that point: a field left out would be removed.
 */
public final class StatusWriter {

    public static final String FIELD_MANAGER = "blockvault-agent";
    /** The one condition type the agent owns; the operator owns the others. */
    public static final String CONDITION = "AgentProgressing";

    private final KubernetesClient client;
    private final Class<? extends HasMetadata> kind;

    public StatusWriter(KubernetesClient client, Class<? extends HasMetadata> kind) {
        this.client = client;
        this.kind = kind;
    }

    /** The kind's name, for messages: Backup or Restore. */
    public String kind() {
        return HasMetadata.getKind(kind);
    }

    public void apply(String name, Map<String, Object> status) {
        GenericKubernetesResource patch = new GenericKubernetesResource();
        patch.setApiVersion(HasMetadata.getApiVersion(kind));
        patch.setKind(HasMetadata.getKind(kind));
        patch.setMetadata(new ObjectMetaBuilder().withName(name).build());
        patch.setAdditionalProperty("status", status);
        client.resource(patch).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(FIELD_MANAGER).withForce(true).build());
    }

    /** The agent's condition, as a map for {@link #apply}. */
    public static Map<String, Object> condition(String value, String reason, String message, Instant since,
            Long generation) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", CONDITION);
        c.put("status", value);
        c.put("reason", reason);
        c.put("message", message);
        c.put("lastTransitionTime", since.toString());
        if (generation != null) {
            c.put("observedGeneration", generation);
        }
        return c;
    }
}
