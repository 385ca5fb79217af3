package io.blockvault.repository.client;

import java.time.Instant;
import java.util.Optional;

/**
 * How full a repository is and what it holds, as the transport sees it (the STATS request).
 *
 * @param capacityBytes size of the repository's filesystem
 * @param usedBytes bytes in use on that filesystem (by anything, not only the repository)
 * @param freeBytes bytes still available to the transport on that filesystem
 * @param storedBytes bytes of stored chunk files (sealed and waiting for the guard), after dedup,
 *        compression and encryption
 * @param logicalBytes what the restore points reference, uncompressed, zero chunks excluded, counted
 *        once per point: what the data would take without dedup and compression
 * @param restorePoints restore points of every node, sealed or waiting for the guard
 * @param sealedPoints of those, the ones the guard has sealed (immutable)
 * @param guardTrustedNow the guard's trusted time as last published; empty when no guard has run
 * @param lockDays the guard's lock period for new points; 0 when no guard has run
 * @param clockWarning the guard's last clock warning; empty when there is none
 * @param clockFrozen why the guard's trusted clock is frozen, so that it deletes nothing until root on
 *        the repository host accepts the time; empty when it is not frozen
 */
public record RepositoryStats(long capacityBytes, long usedBytes, long freeBytes, long storedBytes,
        long logicalBytes, long restorePoints, long sealedPoints, Optional<Instant> guardTrustedNow, int lockDays,
        Optional<String> clockWarning, Optional<String> clockFrozen) {

    /** Logical over stored bytes; 1.0 while nothing is stored. */
    public double dedupRatio() {
        return storedBytes == 0 ? 1.0 : (double) logicalBytes / storedBytes;
    }
}
