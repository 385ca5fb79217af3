package io.blockvault.agent.snapshot;

import io.blockvault.agent.linux.FilesystemFreeze;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * For nodes without the snapshot module: the live device is read while it may change, so the
 * result is crash-inconsistent and says so. With {@code freeze}, a mounted filesystem is frozen
 * and thawed at the start, which flushes its journal and dirty data to the device first.
 */
public final class NoSnapProvider implements SnapshotProvider {

    @Override
    public String name() {
        return "nosnap";
    }

    @Override
    public Snapshot take(List<String> devices, SnapshotOptions options) throws IOException {
        if (options.freeze()) {
            for (String device : devices) {
                FilesystemFreeze.flush(Path.of(device));
            }
        }
        return new Snapshot() {
            @Override
            public Path image(String device) {
                if (!devices.contains(device)) {
                    throw new IllegalArgumentException(device + " is not part of this snapshot");
                }
                return Path.of(device);
            }

            @Override
            public Optional<Tracking> tracking(String device) {
                return Optional.empty();
            }

            @Override
            public boolean crashConsistent() {
                return false;
            }

            @Override
            public Optional<String> failure() {
                return Optional.empty();
            }

            @Override
            public void close() {
                // nothing was taken
            }
        };
    }
}
