package io.blockvault.api.v1alpha1;

/** How a backup found the data to send. */
public enum BackupMode {
    /** Changed block tracking of the blksnap module: only changed chunks were read. */
    Cbt,
    /** Everything was read and hashed; only chunks the repository lacked were sent. */
    FullScan,
    /** No snapshot module: the live device was read, the result is crash-inconsistent. */
    NoSnap
}
