package io.blockvault.api.v1alpha1;

/** What a backup is asked to read. */
public enum BackupType {
    /** Changed blocks only when tracking covers the span since the parent, else everything. */
    Auto,
    /** Everything (an active full), whatever tracking says. */
    Full
}
