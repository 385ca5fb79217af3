package io.blockvault.repository.client;

import java.util.OptionalLong;

/**
 * Where a running backup stands.
 *
 * @param toScanBytes     bytes the backup reads in total (all of the device, or the changed chunks)
 * @param scannedBytes    bytes read so far
 * @param changedBytes    plaintext bytes of read chunks that differ from the parent (or, without a
 *                        parent, that the repository lacked)
 * @param sentBytes       stored bytes uploaded
 * @param bytesPerSecond  scan rate since the start
 * @param etaSeconds      estimated seconds left, when a rate is known
 * @param done            true for the last report of a successful backup
 */
public record BackupProgress(long deviceBytes, long toScanBytes, long scannedBytes, long changedBytes, long sentBytes,
        long newChunks, long zeroChunks, long reusedChunks, double bytesPerSecond, OptionalLong etaSeconds,
        boolean done) {

    public double percent() {
        return toScanBytes == 0 ? 100.0 : Math.min(100.0, 100.0 * scannedBytes / toScanBytes);
    }
}
