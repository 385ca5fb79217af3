package io.blockvault.repository.client;

import java.util.OptionalLong;

/**
 * Where a running restore stands.
 *
 * @param toRestoreBytes  plaintext bytes the restore writes (all chunks, or the selected ones)
 * @param restoredBytes   plaintext bytes written (data and zeroes)
 * @param fetchedBytes    stored bytes received from the repository
 */
public record RestoreProgress(long toRestoreBytes, long restoredBytes, long fetchedBytes, double bytesPerSecond,
        OptionalLong etaSeconds, boolean done) {

    public double percent() {
        return toRestoreBytes == 0 ? 100.0 : Math.min(100.0, 100.0 * restoredBytes / toRestoreBytes);
    }
}
