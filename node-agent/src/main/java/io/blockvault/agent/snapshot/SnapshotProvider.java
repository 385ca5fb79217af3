package io.blockvault.agent.snapshot;

import java.io.IOException;
import java.util.List;

/** Makes a point-in-time view of block devices that a backup can read at leisure. */
public interface SnapshotProvider {

    /** {@code blksnap} or {@code nosnap}: recorded with every restore point. */
    String name();

    /** Takes one snapshot of all {@code devices} together (mutually consistent where supported). */
    Snapshot take(List<String> devices, SnapshotOptions options) throws IOException;
}
