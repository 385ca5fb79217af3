package io.blockvault.repository.format;

import java.io.IOException;

/** Stored bytes that do not parse or do not match their checksum: damaged or not ours. */
public class FormatException extends IOException {

    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
