package io.blockvault.repository.format;

/** What a backup did: bytes scanned on the device, chunks that were new, zero, or already stored. */
public record PointStats(long scannedBytes, long sentBytes, long newChunks, long zeroChunks, long reusedChunks) {

    public static final PointStats EMPTY = new PointStats(0, 0, 0, 0, 0);
}
