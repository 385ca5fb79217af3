package io.blockvault.operator.schedule;

/** A schedule or time zone that cannot be used; the message says which and what to write instead. */
public class InvalidScheduleException extends Exception {

    private final String reason;

    public InvalidScheduleException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** CamelCase condition reason: {@code InvalidSchedule} or {@code InvalidTimeZone}. */
    public String reason() {
        return reason;
    }
}
