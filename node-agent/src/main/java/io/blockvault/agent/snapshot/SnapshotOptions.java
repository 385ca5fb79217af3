package io.blockvault.agent.snapshot;

import java.nio.file.Path;

/**
 * How to take a snapshot.
 *
 * @param diffStorage      directory (on a filesystem other than the snapshotted devices) where
 *                         the module keeps copy-on-write data
 * @param diffLimitBytes   most the difference storage may grow to
 * @param freeze           freeze mounted filesystems for the instant of the take
 */
public record SnapshotOptions(Path diffStorage, long diffLimitBytes, boolean freeze) {
}
