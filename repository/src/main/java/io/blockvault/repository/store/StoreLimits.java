package io.blockvault.repository.store;

/**
 * Limits that keep one node from filling the repository quietly: bytes of new chunks a node may
 * upload in total, restore points per node, and free space the filesystem must keep.
 */
public record StoreLimits(long maxNodeBytes, int maxPointsPerNode, long minFreeBytes, long leaseTtlMillis) {

    public static final StoreLimits DEFAULT = new StoreLimits(Long.MAX_VALUE, 100_000, 1L << 30, 24L * 3600_000);
}
