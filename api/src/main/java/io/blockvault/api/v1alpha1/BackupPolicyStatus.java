package io.blockvault.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Written by the operator only. */
public record BackupPolicyStatus(
        Long observedGeneration,
        String lastScheduleTime,
        String nextScheduleTime,
        List<NodeStatus> nodes,
        List<Condition> conditions) {

    /** Latest state of one (node, device) the policy covers. */
    public record NodeStatus(
            String nodeName,
            String device,
            String lastBackup,
            BackupPhase lastResult,
            BackupMode lastMode,
            String lastSuccessTime,
            String moduleState) {
    }
}
