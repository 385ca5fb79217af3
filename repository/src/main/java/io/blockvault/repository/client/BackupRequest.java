package io.blockvault.repository.client;

import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import java.util.BitSet;
import java.util.Optional;

/**
 * One backup of one device. With a parent index and a set of changed chunks (from CBT), only the
 * changed chunks are read and the others are taken from the parent (a synthetic full); without,
 * every chunk is read, and only chunks the repository lacks are uploaded.
 */
public record BackupRequest(String node, String pointId, DeviceIdentity device, int chunkSizeBytes,
        ChangeId changeId, Optional<RestorePointIndex> parent, Optional<BitSet> changedChunks) {

    public static final int DEFAULT_CHUNK_SIZE = 4 << 20;

    public BackupRequest {
        if (changedChunks.isPresent() && parent.isEmpty()) {
            throw new IllegalArgumentException("a changed-chunk set needs the parent restore point it is relative to");
        }
        parent.ifPresent(p -> {
            if (p.chunkSizeBytes() != chunkSizeBytes || p.device().sizeBytes() != device.sizeBytes()) {
                throw new IllegalArgumentException("parent " + p.pointId() + " has another chunk size or device size;"
                        + " take a full backup instead");
            }
        });
    }
}
