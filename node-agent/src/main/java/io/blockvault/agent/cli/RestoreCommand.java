package io.blockvault.agent.cli;

import io.blockvault.agent.restore.RestoreEngine;
import io.blockvault.agent.restore.RestoreResult;
import io.blockvault.agent.restore.RestoreSettings;
import io.blockvault.agent.snapshot.BlksnapProvider;
import io.blockvault.agent.snapshot.Snapshot;
import io.blockvault.agent.snapshot.SnapshotOptions;
import io.blockvault.agent.snapshot.SnapshotProviders;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.Repository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a restore point to a block device or a file; every chunk is verified before it is "
                + "written.")
public final class RestoreCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--point", required = true, paramLabel = "ID", description = "restore point id (see list)")
    String point;

    @Option(names = "--target", required = true, paramLabel = "DEV|FILE",
            description = "block device, or a file (created sparse when missing)")
    Path target;

    @Mixin
    CommonOptions common;

    @Option(names = "--force", description = "write even though the target device is mounted")
    boolean force;

    @Option(names = "--quick-rollback", description = "when the target is the point's own device and change "
            + "tracking covers the span since, rewrite only the chunks changed since (needs the blksnap module)")
    boolean quickRollback;

    @Option(names = "--diff-storage", paramLabel = "DIR", defaultValue = "/var/lib/blockvault/diff",
            description = "for --quick-rollback: where the probe snapshot keeps data (default: ${DEFAULT-VALUE})")
    Path diffStorage;

    @Option(names = "--fetches", paramLabel = "N", defaultValue = "4",
            description = "chunk streams in flight (default: ${DEFAULT-VALUE})")
    int fetches;

    @Option(names = "--no-direct-io", description = "write through the page cache instead of O_DIRECT")
    boolean noDirectIo;

    @Override
    public Integer call() throws Exception {
        if (fetches < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--fetches must be positive");
        }
        PointRef ref;
        try {
            ref = new PointRef(common.node(), point);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        RestoreEngine.TrackerProbe probe = device -> {
            if (!SnapshotProviders.moduleLoaded()) {
                return Optional.empty();
            }
            Files.createDirectories(diffStorage);
            try (Snapshot s = new BlksnapProvider().take(List.of(device.toString()),
                    new SnapshotOptions(diffStorage, 64L << 20, false))) {
                return s.tracking(device.toString()).map(t -> new RestoreEngine.Tracker(t.info(), t.map()));
            }
        };
        try (Repository repo = common.repository.open(spec.commandLine())) {
            RestoreResult r = new RestoreEngine(repo, common.repository.codec(), probe).restore(ref,
                    new RestoreSettings(target, force, quickRollback, fetches, !noDirectIo),
                    new ProgressPrinter(System.err, System.console() != null));
            Output out = new Output(System.out);
            if (common.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ok", true);
                m.put("node", r.node());
                m.put("pointId", r.pointId());
                m.put("target", r.target());
                m.put("deviceSizeBytes", r.deviceSizeBytes());
                m.put("writtenBytes", r.writtenBytes());
                m.put("chunksRewritten", r.chunksRewritten());
                m.put("chunksTotal", r.chunksTotal());
                m.put("quickRollback", r.quickRollback());
                m.put("planReason", r.planReason());
                m.put("durationMillis", r.durationMillis());
                m.put("directIo", r.directIo());
                m.put("notes", r.notes());
                out.json(m);
            } else {
                r.notes().forEach(n -> System.err.println("note: " + n));
                out.line("restored " + r.node() + "/" + r.pointId() + " to " + r.target() + ": "
                        + r.chunksRewritten() + " of " + r.chunksTotal() + " chunks, "
                        + ProgressPrinter.size(r.writtenBytes()) + " in " + r.durationMillis() / 1000.0 + " s ("
                        + r.planReason() + ")");
            }
        }
        return 0;
    }
}
