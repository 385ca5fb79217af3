package io.blockvault.repository.guard;

/** What one guard cycle did. */
public record CycleReport(int chunksSealed, int pointsSealed, int pointsDeleted, int deletesRefused,
        int chunksCollected, long bytesCollected, boolean reflinked) {
}
