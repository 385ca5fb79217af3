package io.blockvault.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Written by the operator only. */
public record BackupRepositoryStatus(
        Long observedGeneration,
        String endpoint,
        Integer immutabilityDays,
        Long capacityBytes,
        Long usedBytes,
        Double dedupRatio,
        Long restorePoints,
        List<Condition> conditions) {
}
