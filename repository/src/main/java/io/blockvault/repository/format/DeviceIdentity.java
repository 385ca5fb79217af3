package io.blockvault.repository.format;

/** A device by a stable name (e.g. its /dev/disk/by-id path) and its size in bytes. */
public record DeviceIdentity(String stableId, long sizeBytes) {

    public DeviceIdentity {
        Names.requireLength("device stable id", stableId, 1, 512);
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("device size must be positive, got " + sizeBytes);
        }
    }
}
