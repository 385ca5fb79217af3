package io.blockvault.repository.store;

/**
 * Limits that keep one node from filling the repository quietly: bytes a node may make the
 * repository store in total (new chunks, published indexes, and while they exist its leases and the
 * indexes it is committing), restore points per node, free space the filesystem must keep, and how
 * much lease data one node may hold at a time (in bytes, each file counted as at least one 4 KiB
 * block, and in files). Leases live at most {@code leaseTtlMillis}.
 */
public record StoreLimits(long maxNodeBytes, int maxPointsPerNode, long minFreeBytes, long leaseTtlMillis,
        long maxLeaseBytesPerNode, int maxLeaseFilesPerNode) {

    /**
     * A node's lease bytes: the ids its running backups were told exist. 256 MiB holds every id of a
     * 32 TiB device at 4 MiB chunks, or of several smaller backups at once.
     */
    public static final long DEFAULT_MAX_LEASE_BYTES_PER_NODE = 256L << 20;
    /** One lease file per lack check that found chunks; a backup of 1 TiB in batches of 64 needs 4096. */
    public static final int DEFAULT_MAX_LEASE_FILES_PER_NODE = 16_384;

    public static final StoreLimits DEFAULT = new StoreLimits(Long.MAX_VALUE, 100_000, 1L << 30, 24L * 3600_000);

    public StoreLimits {
        if (maxNodeBytes < 1 || maxPointsPerNode < 1 || minFreeBytes < 0 || leaseTtlMillis < 1
                || maxLeaseBytesPerNode < 1 || maxLeaseFilesPerNode < 1) {
            throw new IllegalArgumentException("store limits must be positive (the free-space reserve may be 0): "
                    + "maxNodeBytes=" + maxNodeBytes + " maxPointsPerNode=" + maxPointsPerNode + " minFreeBytes="
                    + minFreeBytes + " leaseTtlMillis=" + leaseTtlMillis + " maxLeaseBytesPerNode="
                    + maxLeaseBytesPerNode + " maxLeaseFilesPerNode=" + maxLeaseFilesPerNode);
        }
    }

    /** The limits before leases had their own: those get the defaults. */
    public StoreLimits(long maxNodeBytes, int maxPointsPerNode, long minFreeBytes, long leaseTtlMillis) {
        this(maxNodeBytes, maxPointsPerNode, minFreeBytes, leaseTtlMillis, DEFAULT_MAX_LEASE_BYTES_PER_NODE,
                DEFAULT_MAX_LEASE_FILES_PER_NODE);
    }

    public StoreLimits withLeaseLimits(long bytesPerNode, int filesPerNode) {
        return new StoreLimits(maxNodeBytes, maxPointsPerNode, minFreeBytes, leaseTtlMillis, bytesPerNode, filesPerNode);
    }
}
