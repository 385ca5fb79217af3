package io.blockvault.agent.cli;

import io.blockvault.agent.backup.BackupEngine;
import io.blockvault.agent.backup.BackupResult;
import io.blockvault.agent.backup.BackupSettings;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.repository.client.BackupListener;
import io.blockvault.repository.client.Repository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "backup", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Back up a block device: snapshot it, send what changed since the last backup, commit a "
                + "restore point.")
public final class BackupCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--device", required = true, paramLabel = "DEV", description = "block device (or image file)")
    Path device;

    @Mixin
    CommonOptions common;

    @Option(names = "--full", description = "read the whole device even when change tracking could spare it")
    boolean full;

    @Mixin
    EngineOptions engine;

    @Option(names = "--point-id", paramLabel = "ID", description = "restore point id (default: time and device)")
    String pointId;

    @Option(names = "--no-direct-io", description = "read through the page cache instead of O_DIRECT")
    boolean noDirectIo;

    @Option(names = "--no-freeze", description = "nosnap: do not flush a mounted filesystem before reading")
    boolean noFreeze;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(device)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "device " + device + " does not exist");
        }
        SnapshotProvider provider = engine.provider(spec.commandLine());
        BackupSettings settings = new BackupSettings(common.node(), device, full, engine.diffStorage(),
                engine.diffLimitBytes(), engine.workers(), engine.uploads(), engine.bandwidthLimitBytesPerSecond(),
                engine.chunkSizeBytes(), !noDirectIo, !noFreeze,
                Optional.ofNullable(pointId));
        BackupListener progress = new ProgressPrinter(System.err, System.console() != null);
        try (Repository repo = common.repository.open(spec.commandLine())) {
            BackupResult r = new BackupEngine(repo, common.repository.codec(), provider, Clock.systemUTC())
                    .backup(settings, progress);
            print(r);
        }
        return 0;
    }

    private void print(BackupResult r) {
        Output out = new Output(System.out);
        if (common.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", true);
            m.put("node", r.node());
            m.put("pointId", r.pointId());
            m.put("device", r.device());
            m.put("deviceStableId", r.deviceStableId());
            m.put("deviceSizeBytes", r.deviceSizeBytes());
            m.put("mode", r.mode().name());
            m.put("modeReason", r.modeReason());
            m.put("snapshotProvider", r.snapshotProvider());
            m.put("crashConsistent", r.crashConsistent());
            m.put("parentPointId", r.parentPointId().orElse(null));
            m.put("scannedBytes", r.stats().scannedBytes());
            m.put("sentBytes", r.stats().sentBytes());
            m.put("newChunks", r.stats().newChunks());
            m.put("zeroChunks", r.stats().zeroChunks());
            m.put("reusedChunks", r.stats().reusedChunks());
            m.put("readChunks", r.changedChunks());
            m.put("durationMillis", r.durationMillis());
            m.put("directIo", r.directIo());
            m.put("notes", r.notes());
            out.json(m);
            return;
        }
        r.notes().forEach(n -> System.err.println("note: " + n));
        out.line("restore point " + r.node() + "/" + r.pointId() + " committed");
        out.line("  mode     " + r.mode() + " (" + r.modeReason() + ")" + (r.crashConsistent() ? ""
                : "; not crash-consistent: no snapshot"));
        out.line("  parent   " + r.parentPointId().orElse("none"));
        out.line("  scanned  " + ProgressPrinter.size(r.stats().scannedBytes()) + ", sent "
                + ProgressPrinter.size(r.stats().sentBytes()) + " (" + r.stats().newChunks() + " new, "
                + r.stats().reusedChunks() + " reused, " + r.stats().zeroChunks() + " zero chunks) in "
                + r.durationMillis() / 1000.0 + " s");
    }
}
