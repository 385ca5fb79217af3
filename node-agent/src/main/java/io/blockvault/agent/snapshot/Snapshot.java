package io.blockvault.agent.snapshot;

import io.blockvault.agent.blksnap.CbtInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** A taken snapshot; closing it releases the images and the difference storage. */
public interface Snapshot extends AutoCloseable {

    /** What to read for {@code device}: an image disk, or the live device without a module. */
    Path image(String device);

    /** The change tracker's state at the take, when the device is tracked. */
    Optional<Tracking> tracking(String device) throws IOException;

    /** False when the data read may mix moments (no snapshot module). */
    boolean crashConsistent();

    /**
     * Why the snapshot can no longer be trusted (overflow or an I/O error of the difference
     * storage), if it happened; a backup must then fail and commit nothing.
     */
    Optional<String> failure();

    @Override
    void close() throws IOException;

    /** Tracker state and the frozen map of this take. */
    record Tracking(CbtInfo info, byte[] map) {
        public Tracking {
            map = map.clone();
        }

        @Override
        public byte[] map() {
            return map.clone();
        }
    }
}
