package io.blockvault.agent.controller;

import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.RepositoryException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/** Turns what the engine threw into a status reason and a message that says what to do. */
public final class FailureReasons {

    private FailureReasons() {
    }

    public static BackupFailure classify(Throwable e) {
        String what = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof BackupAbortedException aborted) {
            String failure = aborted.failure() == null ? "" : aborted.failure().toLowerCase(Locale.ROOT);
            if (failure.contains("overflow") || failure.contains("no space") || failure.contains("no_space")) {
                return new BackupFailure("DiffStorageOverflow", what + "; give the difference storage more room "
                        + "(--diff-limit-mib, --diff-storage on a larger filesystem) or back up when fewer writes "
                        + "happen", e);
            }
            return new BackupFailure("SnapshotFailed", what + "; check the blksnap module's messages in dmesg on the "
                    + "node; the next scheduled backup tries again", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RepositoryException re) {
                return repository(re, what, e);
            }
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof NoRouteToHostException || t instanceof SocketTimeoutException) {
                return new BackupFailure("RepositoryUnavailable", "cannot reach the repository: " + what
                        + "; check the agent's --repository address and that the transport runs", e);
            }
            if (t instanceof SSLException) {
                return new BackupFailure("RepositoryUnavailable", "TLS to the repository failed: " + what
                        + "; check that the agent's --ca-file signed the repository's certificate and that the certificate "
                        + "names the repository's host (or --server-name)", e);
            }
            if (t instanceof NoSuchFileException) {
                return new BackupFailure(DeviceResolver.DEVICE_NOT_FOUND, what + " does not exist on this node; "
                        + "check spec.device and that the disk is attached", e);
            }
            if (t instanceof AccessDeniedException) {
                return new BackupFailure("PermissionDenied", "permission denied: " + what + "; the agent must run as "
                        + "root in a privileged container with /dev mounted", e);
            }
        }
        if (e instanceof RuntimeException) {
            return new BackupFailure(BackupController.BACKUP_FAILED, "internal error: " + e + " (a bug; the agent log "
                    + "has the stack trace, please report it); the next scheduled backup tries again", e);
        }
        return new BackupFailure(BackupController.BACKUP_FAILED, what + "; the next scheduled backup tries again; "
                + "see the agent's log on the node for details", e);
    }

    private static BackupFailure repository(RepositoryException re, String what, Throwable e) {
        switch (re.reason()) {
            case QUOTA_EXCEEDED:
                return new BackupFailure("RepositoryFull", what + "; free space in the repository (retention) or "
                        + "raise its quota", e);
            case UNAUTHENTICATED:
            case FORBIDDEN:
                return new BackupFailure("RepositoryAccessDenied", what + "; check the node's token (--token-file) "
                        + "and that the repository knows this node", e);
            case BUSY:
            case LOCKED:
                return new BackupFailure("RepositoryBusy", what + "; the repository is busy; the next scheduled "
                        + "backup tries again", e);
            default:
                return new BackupFailure("RepositoryError", what + " (" + re.reason() + "); check the repository "
                        + "server's log; the next scheduled backup tries again", e);
        }
    }
}
