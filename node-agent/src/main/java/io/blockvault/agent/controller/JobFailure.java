package io.blockvault.agent.controller;

/**
 * A Backup or Restore that cannot succeed, with the CamelCase reason written to {@code status.reason} and a
 * message that says what failed, why, and what to do.
 */
public final class JobFailure extends Exception {

    private final String reason;

    public JobFailure(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public JobFailure(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
