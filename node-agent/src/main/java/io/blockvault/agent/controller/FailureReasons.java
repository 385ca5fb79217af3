package io.blockvault.agent.controller;

import io.blockvault.repository.client.BackupAbortedException;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.format.FormatException;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Turns what an engine threw into a status reason and a message that says what to do. */
public final class FailureReasons {

    public static final String UNAVAILABLE = "RepositoryUnavailable";

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
                    || t instanceof NoRouteToHostException) {
                return new JobFailure(UNAVAILABLE, "cannot reach the repository: " + what
                        + "; check the agent's --repository address and that the transport runs", e);
            }
            if (connectionLost(t)) {
                return new JobFailure(UNAVAILABLE, "the connection to the repository was lost: " + what
                        + "; check that the repository's transport runs (its restarts and log) and the network "
                        + "between this node and the repository", e);
            }
            if (t instanceof SSLException) {
                return new JobFailure(UNAVAILABLE, "TLS to the repository failed: " + what
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

    /**
     * A failure worth trying again within the same Backup: the repository went away (connection
     * refused, reset or closed, a timeout), not one that would fail the same way again (full,
     * access denied, TLS trust, a snapshot failure, a wrong address).
     */
    public static boolean transientRepositoryFailure(JobFailure f) {
        if (!UNAVAILABLE.equals(f.reason())) {
            return false;
        }
        boolean lost = false;
        for (Throwable t = f.getCause(); t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof SSLPeerUnverifiedException
                    || t instanceof UnknownHostException) {
                return false;
            }
            lost |= t instanceof ConnectException || t instanceof NoRouteToHostException || connectionLost(t);
        }
        return lost;
    }

    /** The repository or the network dropped a connection that was up (or timed out). */
    private static boolean connectionLost(Throwable t) {
        if (t instanceof SocketTimeoutException || t instanceof EOFException) {
            return true;
        }
        if (t instanceof SocketException && !(t instanceof ConnectException)
                && !(t instanceof NoRouteToHostException)) {
            return true;
        }
        if (t instanceof RepositoryException re) {
            return re.reason() == RepositoryException.Reason.PROTOCOL
                    && String.valueOf(re.getMessage()).contains("closed the connection");
        }
        if (t instanceof SSLException && !(t instanceof SSLPeerUnverifiedException)) {
            // TLS over a socket that broke (reset, EOF in the handshake); not a trust failure.
            for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
                if (c instanceof CertificateException) {
                    return false;
                }
                if (c instanceof SocketException || c instanceof EOFException) {
                    return true;
                }
            }
        }
        return false;
    }

    private static JobFailure repository(RepositoryException re, String what, Throwable e, Work work) {
        if (connectionLost(re)) {
            return new JobFailure(UNAVAILABLE, (what.contains("closed the connection") ? what
                    : "the repository closed the connection: " + what) + "; check that the "
                    + "repository's transport runs (its restarts and log)", e);
        }
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
