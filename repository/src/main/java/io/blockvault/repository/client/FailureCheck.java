package io.blockvault.repository.client;

import java.util.Optional;

/**
 * Why the data being backed up can no longer be trusted (for example the snapshot overflowed), if
 * it happened. The writer asks while it reads and once more right before it commits; any answer
 * stops the backup and nothing is committed.
 */
@FunctionalInterface
public interface FailureCheck {

    FailureCheck NONE = Optional::empty;

    Optional<String> failure();
}
