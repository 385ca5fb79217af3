package io.blockvault.agent.controller;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import java.nio.file.Path;

/**
 * What a BackupPolicy says about how its backups run on a node: the difference storage and the upload
 * rate. The node's one agent runs the Backups of every policy, so these come with each Backup (read
 * from its policy when it is claimed) rather than from the agent's options; null fields keep the
 * agent's defaults.
 */
public record PolicyTuning(Path diffStorage, Long diffLimitBytes, Long bandwidthLimitBytesPerSecond) {

    /** An on-demand Backup, or one whose policy is gone: the agent's defaults. */
    public static final PolicyTuning NONE = new PolicyTuning(null, null, null);

    public static PolicyTuning of(BackupPolicy policy) {
        BackupPolicySpec spec = policy == null ? null : policy.getSpec();
        if (spec == null) {
            return NONE;
        }
        BackupPolicySpec.DiffStorage diff = spec.diffStorage();
        return new PolicyTuning(diff == null || diff.directory() == null ? null : Path.of(diff.directory()),
                diff == null || diff.limitMiB() == null ? null : diff.limitMiB().longValue() << 20,
                spec.bandwidthLimitMiBps() == null ? null : spec.bandwidthLimitMiBps().longValue() << 20);
    }

    /** {@code defaults} with this policy's values where it has them. */
    EngineBackupRunner.Tuning over(EngineBackupRunner.Tuning defaults) {
        return new EngineBackupRunner.Tuning(diffStorage != null ? diffStorage : defaults.diffStorage(),
                diffLimitBytes != null ? diffLimitBytes : defaults.diffLimitBytes(), defaults.workers(),
                defaults.uploads(), defaults.chunkSizeBytes(), defaults.directIo(), defaults.freeze(),
                bandwidthLimitBytesPerSecond != null ? bandwidthLimitBytesPerSecond
                        : defaults.bandwidthLimitBytesPerSecond());
    }
}
