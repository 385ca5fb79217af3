package io.blockvault.agent.backup;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What to back up and how.
 *
 * @param node                    node name the restore point belongs to
 * @param device                  block device (or image file) to back up
 * @param full                    read everything even when change tracking could spare it
 * @param diffStorage             where blksnap keeps copy-on-write data (another filesystem)
 * @param diffLimitBytes          most the difference storage may grow to
 * @param workers                 threads that hash, compress and encrypt
 * @param uploadsInFlight         concurrent uploads
 * @param bandwidthLimitBytesPerSecond  upload cap; 0 = none
 * @param chunkSizeBytes          chunk size of a first backup (later ones keep the parent's)
 * @param directIo                read with O_DIRECT where supported
 * @param freeze                  freeze a mounted filesystem for the instant of the take
 * @param pointId                 restore point id; empty = generated from the time and device
 */
public record BackupSettings(String node, Path device, boolean full, Path diffStorage, long diffLimitBytes,
        int workers, int uploadsInFlight, long bandwidthLimitBytesPerSecond, int chunkSizeBytes, boolean directIo,
        boolean freeze, Optional<String> pointId) {

    public BackupSettings {
        if (workers < 1 || uploadsInFlight < 1) {
            throw new IllegalArgumentException("workers and uploads in flight must be at least 1");
        }
    }
}
