package io.blockvault.api.v1alpha1;

/** Life of a Backup or a Restore. */
public enum BackupPhase {
    Pending,
    Running,
    Succeeded,
    Failed
}
