package io.blockvault.agent.snapshot;

import io.blockvault.agent.blksnap.BdevFilter;
import io.blockvault.agent.blksnap.SnapshotControl;
import java.nio.file.Files;
import java.util.Optional;

/** Chooses a snapshot provider by name: {@code blksnap}, {@code nosnap}, or {@code auto}. */
public final class SnapshotProviders {

    /** The provider and, when auto fell back, a warning for the administrator. */
    public record Choice(SnapshotProvider provider, Optional<String> warning) {
    }

    private SnapshotProviders() {
    }

    public static boolean moduleLoaded() {
        return Files.exists(BdevFilter.DEVICE) && SnapshotControl.DEVICES.stream().anyMatch(Files::exists);
    }

    public static Choice choose(String name) {
        switch (name) {
            case "blksnap":
                return new Choice(new BlksnapProvider(), Optional.empty());
            case "nosnap":
                return new Choice(new NoSnapProvider(), Optional.empty());
            case "auto":
                if (moduleLoaded()) {
                    return new Choice(new BlksnapProvider(), Optional.empty());
                }
                return new Choice(new NoSnapProvider(), Optional.of("the blksnap module is not loaded (no "
                        + BdevFilter.DEVICE + "); reading the live device without a snapshot: the backup is not "
                        + "crash-consistent and every run reads the whole device. Load the module (modprobe blksnap)"
                        + " for consistent, incremental backups"));
            default:
                throw new IllegalArgumentException("unknown snapshot provider '" + name
                        + "'; use auto, blksnap or nosnap");
        }
    }
}
