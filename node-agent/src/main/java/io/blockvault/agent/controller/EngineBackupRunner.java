package io.blockvault.agent.controller;

import io.blockvault.agent.backup.BackupEngine;
import io.blockvault.agent.backup.BackupResult;
import io.blockvault.agent.backup.BackupSettings;
import io.blockvault.agent.modules.ModuleState;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.snapshot.SnapshotProviders;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.repository.client.BackupListener;
import io.blockvault.repository.client.Repository;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/**
 * The {@link BackupEngine} as the controller runs it: the Backup's repository opened per backup (so
 * an unreachable repository fails one Backup, not the agent) with that repository's keys, the
 * node's snapshot provider, and the agent's tuning under the policy's own settings.
 */
public final class EngineBackupRunner implements BackupRunner {

    /** The agent's engine settings, which a policy's {@link PolicyTuning} may override (bandwidth 0: unlimited). */
    public record Tuning(Path diffStorage, long diffLimitBytes, int workers, int uploads, int chunkSizeBytes,
            boolean directIo, boolean freeze, long bandwidthLimitBytesPerSecond) {
    }

    private final String node;
    private final ServedRepositories repositories;
    private final SnapshotProvider snapshots;
    private final Tuning tuning;
    private final Clock clock;
    private final Optional<ModuleState> modules;

    /**
     * @param modules what the init container's build-and-load found, if it ran: says why there is no
     *                snapshot module in a NoSnap result or a blksnap failure
     */
    public EngineBackupRunner(String node, ServedRepositories repositories, SnapshotProvider snapshots,
            Tuning tuning, Clock clock, Optional<ModuleState> modules) {
        this.node = node;
        this.repositories = repositories;
        this.snapshots = snapshots;
        this.tuning = tuning;
        this.clock = clock;
        this.modules = modules;
    }

    @Override
    public BackupResult run(String repository, Path device, boolean full, PolicyTuning policy,
            BackupListener listener) throws IOException, JobFailure {
        ServedRepositories.Served target = repositories.get(repository);
        if (snapshots.name().equals("blksnap") && !SnapshotProviders.moduleLoaded()) {
            // --snapshot blksnap: no silent fallback to an inconsistent copy.
            ModuleState m = modules.filter(s -> !s.reason().loaded()).orElse(null);
            throw new JobFailure(m != null ? m.reason().name() : "SnapshotModuleMissing", "no blksnap module on "
                    + "this node" + (m != null ? ": " + m.message() : "; check the agent pod's init container "
                    + "(build-and-load) log"));
        }
        Tuning t = policy.over(tuning);
        BackupSettings settings = new BackupSettings(node, device, full, t.diffStorage(), t.diffLimitBytes(),
                t.workers(), t.uploads(), t.bandwidthLimitBytesPerSecond(), t.chunkSizeBytes(), t.directIo(),
                t.freeze(), Optional.empty());
        BackupResult r;
        try (Repository repo = target.connector().open()) {
            r = new BackupEngine(repo, target.codec(), snapshots, clock).backup(settings, listener);
        }
        Optional<ModuleState> why = modules.filter(s -> !s.reason().loaded());
        return r.mode() == BackupMode.NoSnap && why.isPresent()
                ? r.withModeReason(r.modeReason() + " (" + why.get().line() + ")") : r;
    }
}
