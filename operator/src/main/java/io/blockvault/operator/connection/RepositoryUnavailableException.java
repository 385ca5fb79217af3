package io.blockvault.operator.connection;

import java.util.Objects;

/**
 * The operator could not talk to a repository. {@link #reason()} is the CamelCase reason conditions
 * and Events carry; the message says what is wrong and what to do.
 */
public class RepositoryUnavailableException extends Exception {

    /** The repository could not be reached (connection refused, timeout, DNS). */
    public static final String UNREACHABLE = "RepositoryUnreachable";
    /** The operator's token file is missing or empty. */
    public static final String TOKEN_MISSING = "OperatorTokenMissing";
    /** The repository refused the operator's token. */
    public static final String TOKEN_REJECTED = "OperatorTokenRejected";
    /** The TLS handshake failed: the certificate is not signed by the trusted CA or does not name the endpoint. */
    public static final String UNTRUSTED = "RepositoryUntrusted";
    /** Nothing to trust yet or at all: the managed CA Secret is missing or the caBundle holds no certificate. */
    public static final String TRUST_MISSING = "RepositoryTrustMissing";
    /** The BackupRepository object does not exist. */
    public static final String NOT_FOUND = "RepositoryNotFound";
    /** The repository answered, but refused or failed the request. */
    public static final String REQUEST_FAILED = "RepositoryRequestFailed";

    private final String reason;

    public RepositoryUnavailableException(String reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public RepositoryUnavailableException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public String reason() {
        return reason;
    }
}
