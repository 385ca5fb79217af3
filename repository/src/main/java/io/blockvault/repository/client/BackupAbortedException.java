package io.blockvault.repository.client;

import java.io.IOException;

/** A backup stopped by its {@link FailureCheck}; nothing was committed. */
public final class BackupAbortedException extends IOException {

    private final String failure;

    public BackupAbortedException(String pointId, String failure) {
        super("backup " + pointId + " was stopped and nothing was committed: " + failure);
        this.failure = failure;
    }

    /** The reason the failure check gave. */
    public String failure() {
        return failure;
    }
}
