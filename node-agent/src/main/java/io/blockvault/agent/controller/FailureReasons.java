package io.blockvault.agent.controller;

import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.format.FormatException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/** Turns what an engine threw into a status reason and a message that says what to do. */
public final class FailureReasons {

    /** What failed: its catch-all reason and how the user tries again. */
    public enum Work {
        BACKUP("BackupFailed", "the next scheduled backup tries again"),
        RESTORE("RestoreFailed", "create a new Restore to try again");

        final String reason;
        final String retry;

        Work(String reason, String retry) {
            this.reason = reason;
            this.retry = retry;
        }

        public String reason() {
            return reason;
        }
    }

    private FailureReasons() {
    }

    public static JobFailure classify(Throwable e) {
        return classify(e, Work.BACKUP);
    }

    public static JobFailure classify(Throwable e, Work work) {
        String what = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof BackupAbortedException aborted) {
            String failure = aborted.failure() == null ? "" : aborted.failure().toLowerCase(Locale.ROOT);
            if (failure.contains("overflow") || failure.contains("no space") || failure.contains("no_space")) {
                return new JobFailure("DiffStorageOverflow", what + "; give the difference storage more room "
                        + "(--diff-limit-mib, --diff-storage on a larger filesystem) or back up when fewer writes "
                        + "happen", e);
            }
            return new JobFailure("SnapshotFailed", what + "; check the blksnap module's messages in dmesg on the "
                    + "node; the next scheduled backup tries again", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FormatException fe) {
                if (String.valueOf(fe.getMessage()).contains("encrypted with key id")) {
                    return new JobFailure("EncryptionKeyMissing", fe.getMessage() + "; the agent's --key-dir must "
                            + "hold every key-N of the repository's encryption-key Secret (keys are never removed "
                            + "from it)", e);
                }
                return new JobFailure("ChunkVerificationFailed", fe.getMessage() + "; the restore point is damaged "
                        + "in the repository; restore another point and run verify on the repository", e);
            }
            if (t instanceof RepositoryException re) {
                return repository(re, what, e, work);
            }
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof NoRouteToHostException || t instanceof SocketTimeoutException) {
                return new JobFailure("RepositoryUnavailable", "cannot reach the repository: " + what
                        + "; check the agent's --repository address and that the transport runs", e);
            }
            if (t instanceof SSLException) {
                return new JobFailure("RepositoryUnavailable", "TLS to the repository failed: " + what
                        + "; check that the agent's --ca-file signed the repository's certificate and that the "
                        + "certificate names the repository's host (or --server-name)", e);
            }
            if (t instanceof NoSuchFileException) {
                return new JobFailure(DeviceResolver.DEVICE_NOT_FOUND, what + " does not exist on this node; "
                        + "check spec.device and that the disk is attached", e);
            }
            if (t instanceof AccessDeniedException) {
                return new JobFailure("PermissionDenied", "permission denied: " + what + "; the agent must run as "
                        + "root in a privileged container with /dev mounted", e);
            }
        }
        if (e instanceof RuntimeException) {
            return new JobFailure(work.reason, "internal error: " + e + " (a bug; the agent log has the stack trace, "
                    + "please report it); " + work.retry, e);
        }
        return new JobFailure(work.reason, what + "; " + work.retry + "; see the agent's log on the node for "
                + "details", e);
    }

    private static JobFailure repository(RepositoryException re, String what, Throwable e, Work work) {
        switch (re.reason()) {
            case QUOTA_EXCEEDED:
                return new JobFailure("RepositoryFull", what + "; free space in the repository (retention) or "
                        + "raise its quota", e);
            case UNAUTHENTICATED:
            case FORBIDDEN:
                return new JobFailure("RepositoryAccessDenied", what + "; check the node's token (--token-file) "
                        + "and that the repository knows this node", e);
            case BUSY:
            case LOCKED:
                return new JobFailure("RepositoryBusy", what + "; the repository is busy; " + work.retry, e);
            default:
                return new JobFailure("RepositoryError", what + " (" + re.reason() + "); check the repository "
                        + "server's log; " + work.retry, e);
        }
    }
}
