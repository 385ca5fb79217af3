package io.blockvault.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Written by the agent that runs the restore, conditions about timeouts by the operator. */
public record RestoreStatus(
        BackupPhase phase,
        String restorePointId,
        Boolean quickRollback,
        String startTime,
        String completionTime,
        Progress progress,
        String reason,
        String message,
        List<Condition> conditions) {
}
