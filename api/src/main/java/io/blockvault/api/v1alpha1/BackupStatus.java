package io.blockvault.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * Progress fields are written by the agent that runs the backup; {@code conditions} about
 * timeouts and deletion by the operator. Server-side apply field managers keep the two apart.
 */
public record BackupStatus(
        BackupPhase phase,
        BackupMode mode,
        String modeReason,
        String restorePointId,
        String parentRestorePointId,
        Boolean crashConsistent,
        @JsonPropertyDescription("The node's snapshot module as the agent found it: the reason of the init "
                + "container's build-and-load (BlksnapLoaded, VeeamBlksnapLoaded, SecureBootKeyMissing, ...), "
                + "else BlksnapLoaded or VeeamBlksnapLoaded when loaded, else NotLoaded.")
        String moduleState,
        String startTime,
        String completionTime,
        String immutableUntil,
        Progress progress,
        String reason,
        String message,
        List<Condition> conditions) {
}
