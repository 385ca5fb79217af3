package io.blockvault.repository.store;

import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The transport's own check of the guard's published time before it passes on a deletion: the
 * guard must not be frozen, must have published since this transport started, and its trusted time
 * (less the configured advance) must not have run ahead of this process's monotonic clock since the
 * first fresh status it saw. So a deletion never goes ahead only because the published time says a
 * lock expired; the guard judges the request again by its own clock.
 */
final class GuardClockWitness {

    /** What the guard's published time may gain on this process's clock: its cycle, and a slow disk. */
    static final long SLACK_MILLIS = 300_000;

    private final long startedWallMillis = System.currentTimeMillis();
    private long baseOffsetMillis = Long.MIN_VALUE;

    /**
     * Takes the first status the guard published since this transport started as the pace to hold it
     * to. Called wherever the transport reads the status, so that the pace is known before a deletion.
     */
    synchronized void observe(Path statusFile, Optional<GuardStatus> status) throws IOException {
        if (baseOffsetMillis == Long.MIN_VALUE && status.isPresent() && fresh(statusFile)) {
            baseOffsetMillis = offset(status.get());
        }
    }

    private boolean fresh(Path statusFile) throws IOException {
        return Files.getLastModifiedTime(statusFile).toMillis() >= startedWallMillis - 5_000;
    }

    private static long offset(GuardStatus g) {
        return g.trustedNowMillis() - g.advanceSeconds() * 1000 - System.nanoTime() / 1_000_000;
    }

    /** Throws LOCKED naming why {@code point} cannot be deleted now; returns when it may be requested. */
    synchronized void checkDeletion(Path statusFile, Optional<GuardStatus> status, String point) throws IOException {
        if (status.isEmpty()) {
            throw new RepositoryException(Reason.LOCKED, "restore point " + point + " cannot be deleted: the "
                    + "repository's guard has published no status, so its clock is unknown");
        }
        GuardStatus g = status.get();
        if (g.frozen()) {
            throw new RepositoryException(Reason.LOCKED, "restore point " + point + " cannot be deleted: the "
                    + "repository guard's trusted clock is frozen (" + g.frozenReason() + "); deletion resumes once "
                    + "root on the repository host accepts the time (blockvault-repository clock-accept)");
        }
        if (!fresh(statusFile)) {
            throw new RepositoryException(Reason.LOCKED, "restore point " + point + " cannot be deleted yet: the "
                    + "repository's guard has not published its clock since this transport started (last status "
                    + Files.getLastModifiedTime(statusFile) + "); try again once the guard runs");
        }
        observe(statusFile, status);
        long offset = offset(g);
        if (offset - baseOffsetMillis > SLACK_MILLIS) {
            throw new RepositoryException(Reason.LOCKED, "restore point " + point + " cannot be deleted: the guard's "
                    + "trusted time ran " + (offset - baseOffsetMillis) / 1000 + " s ahead of this transport's own "
                    + "clock since it started; check the repository host's clock, then restart the transport");
        }
    }
}
