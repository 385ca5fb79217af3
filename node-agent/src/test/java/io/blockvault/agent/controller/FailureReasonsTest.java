package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.format.FormatException;
import java.io.IOException;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class FailureReasonsTest {

    @Test
    void snapshotOverflowIsDiffStorageOverflow() {
        JobFailure f = FailureReasons.classify(new BackupAbortedException("p1",
                "the difference storage of snapshot 3 overflowed: raise the limit"));
        assertThat(f.reason()).isEqualTo("DiffStorageOverflow");
        assertThat(f.getMessage()).contains("nothing was committed", "--diff-limit-mib");
    }

    @Test
    void unreachableRepositoryIsRepositoryUnavailable() {
        JobFailure f = FailureReasons.classify(new IOException("upload failed",
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
        JobFailure f = FailureReasons.classify(new IOException("read of /dev/loop3 failed: EIO"));
        assertThat(f.reason()).isEqualTo("BackupFailed");
        assertThat(f.getMessage()).contains("read of /dev/loop3 failed: EIO", "next scheduled backup");
    }

    @Test
    void restoreFailuresSayHowToTryAgainAndNameAMissingKey() {
        JobFailure other = FailureReasons.classify(new IOException("write of /dev/sdb failed: EIO"),
                FailureReasons.Work.RESTORE);
        assertThat(other.reason()).isEqualTo("RestoreFailed");
        assertThat(other.getMessage()).contains("create a new Restore").doesNotContain("scheduled backup");
        // The text ChunkCodec.decode throws for a chunk of a key the agent lacks.
        JobFailure key = FailureReasons.classify(new IOException("restore failed", new FormatException("chunk ab12 is "
                + "encrypted with key id 1, which this client was not given; configure that key")),
                FailureReasons.Work.RESTORE);
        assertThat(key.reason()).isEqualTo("EncryptionKeyMissing");
        assertThat(key.getMessage()).contains("key id 1", "--key-dir", "key-N");
        JobFailure damaged = FailureReasons.classify(new FormatException("chunk ab12 does not decompress to its "
                + "recorded size"), FailureReasons.Work.RESTORE);
        assertThat(damaged.reason()).isEqualTo("ChunkVerificationFailed");
    }

    @Test
    void aClosedConnectionIsRepositoryUnavailableAndTransient() {
        // What TransportClient throws when the transport goes away between two frames.
        JobFailure closed = FailureReasons.classify(new IOException("upload failed", new RepositoryException(
                RepositoryException.Reason.PROTOCOL, "the repository closed the connection")));
        assertThat(closed.reason()).isEqualTo("RepositoryUnavailable");
        assertThat(closed.getMessage()).contains("closed the connection", "transport runs");
        assertThat(FailureReasons.transientRepositoryFailure(closed)).isTrue();
        for (Throwable t : new Throwable[] {new ConnectException("Connection refused"),
                new SocketException("Connection reset"), new SocketException("Broken pipe"),
                new SocketTimeoutException("Read timed out"), new EOFException(),
                new SSLException("Connection reset", new SocketException("Connection reset")),
                new SSLHandshakeException("Remote host terminated the handshake")}) {
            if (t instanceof SSLHandshakeException) {
                t.initCause(new EOFException("SSL peer shut down incorrectly"));
            }
            JobFailure f = FailureReasons.classify(new IOException("lack check failed", t));
            assertThat(f.reason()).as("%s", t).isEqualTo("RepositoryUnavailable");
            assertThat(FailureReasons.transientRepositoryFailure(f)).as("%s", t).isTrue();
        }
    }

    @Test
    void failuresThatWouldRecurAreNotRetried() {
        JobFailure trust = FailureReasons.classify(new SSLHandshakeException("PKIX path building failed"));
        assertThat(trust.reason()).isEqualTo("RepositoryUnavailable");
        assertThat(FailureReasons.transientRepositoryFailure(trust)).isFalse();
        SSLHandshakeException badName = new SSLHandshakeException("No subject alternative names");
        badName.initCause(new CertificateException("No subject alternative names"));
        assertThat(FailureReasons.transientRepositoryFailure(FailureReasons.classify(badName))).isFalse();
        assertThat(FailureReasons.transientRepositoryFailure(FailureReasons.classify(
                new UnknownHostException("repo.example")))).isFalse();
        for (RepositoryException.Reason r : new RepositoryException.Reason[] {RepositoryException.Reason.QUOTA_EXCEEDED,
                RepositoryException.Reason.FORBIDDEN, RepositoryException.Reason.UNAUTHENTICATED,
                RepositoryException.Reason.LOCKED, RepositoryException.Reason.INTERNAL,
                RepositoryException.Reason.PROTOCOL}) {
            JobFailure f = FailureReasons.classify(new RepositoryException(r, "repository: refused"));
            assertThat(FailureReasons.transientRepositoryFailure(f)).as("%s", r).isFalse();
        }
        assertThat(FailureReasons.transientRepositoryFailure(FailureReasons.classify(new BackupAbortedException("p1",
                "snapshot 3 is corrupted")))).isFalse();
        assertThat(FailureReasons.transientRepositoryFailure(FailureReasons.classify(new IOException(
                "read of /dev/loop3 failed: EIO")))).isFalse();
    }
}
