package io.blockvault.operator.backup;

import io.blockvault.operator.status.StatusApply;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the failure a timeout decided on a Backup or Restore: a server-side apply with its own
 * field manager and {@code force}, taking {@code phase}, {@code reason}, {@code message},
 * {@code completionTime} and the given conditions from the agent at that moment only (a failed
 * object is final, the agent skips it when it comes back).
 *
 * <p>The apply carries the {@code resourceVersion} the timeout was judged on: if the agent wrote
 * anything since (claimed it, reported progress, finished it), the API server refuses the apply
 * with a conflict and nothing is overwritten; the caller judges the new state.
 */
public final class TimeoutFailure {

    public static final String FIELD_MANAGER = "blockvault-operator-timeouts";

    private TimeoutFailure() {
    }

    /** @return false when the object changed after {@code judged} was read (nothing was written) */
    public static boolean apply(KubernetesClient client, HasMetadata judged, AgentTimeouts.Timeout timeout,
            List<?> conditions, Instant now) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("phase", "Failed");
        status.put("reason", timeout.reason());
        status.put("message", timeout.message());
        status.put("completionTime", now.toString());
        status.put("conditions", conditions);
        try {
            StatusApply.apply(client, judged, FIELD_MANAGER, status, judged.getMetadata().getResourceVersion());
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }
}
