package io.blockvault.repository.client;

/** Receives progress of a backup at least every progress interval, and once at the end. */
@FunctionalInterface
public interface BackupListener {

    BackupListener NONE = p -> { };

    /** Called from a timer thread; must not block for long. */
    void progress(BackupProgress progress);
}
