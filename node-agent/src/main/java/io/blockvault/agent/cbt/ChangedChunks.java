package io.blockvault.agent.cbt;

import java.util.BitSet;

/**
 * Turns a CBT map (one byte per tracking block: the snapshot number in which the block last
 * changed) into the set of backup chunks that must be read again. Tracking blocks and chunks
 * have independent sizes, so a changed block marks every chunk it overlaps.
 */
public final class ChangedChunks {

    private ChangedChunks() {
    }

    /**
     * @param map             the frozen CBT map of the current take
     * @param blockSizeBytes  tracking block size
     * @param capacityBytes   device size
     * @param chunkSizeBytes  backup chunk size
     * @param sinceChange     the change number recorded with the parent restore point: blocks
     *                        whose number is greater changed after the parent was taken
     */
    public static BitSet since(byte[] map, long blockSizeBytes, long capacityBytes, long chunkSizeBytes,
            int sinceChange) {
        if (blockSizeBytes <= 0 || chunkSizeBytes <= 0 || capacityBytes < 0) {
            throw new IllegalArgumentException("block size, chunk size and capacity must be positive");
        }
        long chunks = chunkCount(capacityBytes, chunkSizeBytes);
        BitSet changed = new BitSet((int) chunks);
        for (int block = 0; block < map.length; block++) {
            if (Byte.toUnsignedInt(map[block]) <= sinceChange) {
                continue;
            }
            long start = block * blockSizeBytes;
            if (start >= capacityBytes) {
                break;
            }
            long end = Math.min(capacityBytes, start + blockSizeBytes);
            changed.set((int) (start / chunkSizeBytes), (int) ((end - 1) / chunkSizeBytes) + 1);
        }
        return changed;
    }

    public static long chunkCount(long capacityBytes, long chunkSizeBytes) {
        long count = (capacityBytes + chunkSizeBytes - 1) / chunkSizeBytes;
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("device of " + capacityBytes + " bytes has too many chunks of "
                    + chunkSizeBytes + " bytes");
        }
        return count;
    }
}
