package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.Backup;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.Map;

/** Plays the node agent's part in tests: writes Backup and Restore status with the agent's own field manager. */
public final class AgentStatus {

    public static final String AGENT_FIELD_MANAGER = "blockvault-agent";

    private AgentStatus() {
    }

    /** A Backup's or Restore's status, as the agent applies it. */
    public static void apply(KubernetesClient client, HasMetadata object, Map<String, Object> status) {
        GenericKubernetesResource patch = new GenericKubernetesResource();
        patch.setApiVersion(object.getApiVersion());
        patch.setKind(object.getKind());
        patch.setMetadata(new ObjectMetaBuilder().withName(object.getMetadata().getName()).build());
        patch.setAdditionalProperty("status", status);
        client.resource(patch).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(AGENT_FIELD_MANAGER).withForce(true)
                .build());
    }

    public static void succeed(KubernetesClient client, Backup backup, Instant completion) {
        succeed(client, backup, completion, "BlksnapLoaded");
    }

    /** Succeeded as an agent whose node's snapshot module is in {@code moduleState} (a ModuleState reason). */
    public static void succeed(KubernetesClient client, Backup backup, Instant completion, String moduleState) {
        apply(client, backup, Map.of("phase", "Succeeded", "mode", "Cbt", "moduleState", moduleState,
                "restorePointId", "rp-" + backup.getMetadata().getName(), "startTime",
                completion.minusSeconds(30).toString(), "completionTime", completion.toString(), "progress",
                Map.of("scannedBytes", 4096, "changedBytes", 1024, "sentBytes", 512, "percent", 100)));
    }
}
