package io.blockvault.agent.cli;

import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.snapshot.SnapshotProviders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** How backups are taken and pipelined; shared by {@code backup} and the DaemonSet's {@code run}. */
public final class EngineOptions {

    @Option(names = "--snapshot", paramLabel = "auto|blksnap|nosnap", defaultValue = "auto",
            description = "snapshot provider (default: ${DEFAULT-VALUE}: blksnap when the module is loaded)")
    String snapshot;

    @Option(names = "--diff-storage", paramLabel = "DIR", defaultValue = "/var/lib/blockvault/diff",
            description = "where blksnap keeps copy-on-write data; must be on another device (default: "
                    + "${DEFAULT-VALUE})")
    Path diffStorage;

    @Option(names = "--diff-limit-mib", paramLabel = "MIB", defaultValue = "4096",
            description = "most the difference storage may grow to (default: ${DEFAULT-VALUE})")
    long diffLimitMib;

    @Option(names = "--workers", paramLabel = "N", description = "threads that hash, compress, encrypt (default: "
            + "CPU count)")
    Integer workers;

    @Option(names = "--uploads", paramLabel = "N", defaultValue = "4",
            description = "uploads in flight (default: ${DEFAULT-VALUE})")
    int uploads;

    @Option(names = "--chunk-size-mib", paramLabel = "MIB", defaultValue = "4",
            description = "chunk size of a first backup (default: ${DEFAULT-VALUE})")
    int chunkSizeMib;

    @Option(names = "--bandwidth-limit-mibps", paramLabel = "MIBPS", defaultValue = "0",
            description = "cap on upload rate in MiB/s; 0 = none (default: ${DEFAULT-VALUE})")
    double bandwidthLimitMibps;

    /** Checks the values, picks the snapshot provider (warning when it falls back) and prepares its storage. */
    public SnapshotProvider provider(CommandLine cmd) throws IOException {
        if (chunkSizeMib < 1 || chunkSizeMib > 64) {
            throw new CommandLine.ParameterException(cmd, "--chunk-size-mib must be 1..64");
        }
        if (diffLimitMib < 1 || uploads < 1 || (workers != null && workers < 1)) {
            throw new CommandLine.ParameterException(cmd, "--diff-limit-mib, --uploads and --workers must be "
                    + "positive");
        }
        if (bandwidthLimitMibps < 0) {
            throw new CommandLine.ParameterException(cmd, "--bandwidth-limit-mibps must be >= 0 (0: no limit), got "
                    + bandwidthLimitMibps);
        }
        SnapshotProviders.Choice choice;
        try {
            choice = SnapshotProviders.choose(snapshot);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        choice.warning().ifPresent(w -> System.err.println("warning: " + w));
        if (choice.provider().name().equals("blksnap")) {
            Files.createDirectories(diffStorage);
        }
        return choice.provider();
    }

    public Path diffStorage() {
        return diffStorage;
    }

    public long diffLimitBytes() {
        return diffLimitMib << 20;
    }

    public int workers() {
        return workers == null ? Runtime.getRuntime().availableProcessors() : workers;
    }

    public int uploads() {
        return uploads;
    }

    /** 0: no limit. */
    public long bandwidthLimitBytesPerSecond() {
        return (long) (bandwidthLimitMibps * (1 << 20));
    }

    public int chunkSizeBytes() {
        return chunkSizeMib << 20;
    }
}
