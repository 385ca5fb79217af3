package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.RepositoryException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class FailureReasonsTest {

    @Test
    void snapshotOverflowIsDiffStorageOverflow() {
        BackupFailure f = FailureReasons.classify(new BackupAbortedException("p1",
                "the difference storage of snapshot 3 overflowed: raise the limit"));
        assertThat(f.reason()).isEqualTo("DiffStorageOverflow");
        assertThat(f.getMessage()).contains("nothing was committed", "--diff-limit-mib");
    }

    @Test
    void unreachableRepositoryIsRepositoryUnavailable() {
        BackupFailure f = FailureReasons.classify(new IOException("upload failed",
                new ConnectException("Connection refused")));
        assertThat(f.reason()).isEqualTo("RepositoryUnavailable");
        assertThat(f.getMessage()).contains("cannot reach the repository", "--repository");
    }

    @Test
    void repositoryReasonsMapToCamelCase() {
        assertThat(FailureReasons.classify(new RepositoryException(RepositoryException.Reason.QUOTA_EXCEEDED,
                "quota of node-a exceeded")).reason()).isEqualTo("RepositoryFull");
        assertThat(FailureReasons.classify(new RepositoryException(RepositoryException.Reason.FORBIDDEN,
                "node-b may not write node-a")).getMessage()).contains("--token-file");
    }

    @Test
    void anythingElseIsBackupFailedAndSaysWhatHappensNext() {
        BackupFailure f = FailureReasons.classify(new IOException("read of /dev/loop3 failed: EIO"));
        assertThat(f.reason()).isEqualTo("BackupFailed");
        assertThat(f.getMessage()).contains("read of /dev/loop3 failed: EIO", "next scheduled backup");
    }
}
