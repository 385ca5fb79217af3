package io.blockvault.repository.client;

import java.io.IOException;

/** A request the repository refused or could not complete; {@link #reason()} tells which kind. */
public class RepositoryException extends IOException {

    /** Kinds of failure; the transport sends them as error codes, so keep the order stable. */
    public enum Reason {
        INTERNAL, INVALID_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ALREADY_EXISTS, LOCKED, MISSING_CHUNKS,
        QUOTA_EXCEEDED, DAMAGED, FRAME_TOO_LARGE, PROTOCOL, BUSY
    }

    private final Reason reason;

    public RepositoryException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RepositoryException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
