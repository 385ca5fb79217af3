package io.blockvault.agent.backup;

import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.agent.cbt.BackupModeDecision;
import io.blockvault.agent.cbt.ChangedChunks;
import io.blockvault.agent.device.BlockDevices;
import io.blockvault.agent.device.DeviceReader;
import io.blockvault.agent.snapshot.Snapshot;
import io.blockvault.agent.snapshot.SnapshotOptions;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.repository.client.BackupListener;
import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.BandwidthLimiter;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One backup of one device: snapshot, decide the mode (CBT incremental, full scan, or no
 * snapshot), read what must be read, let the {@link BackupWriter} pipeline upload what the
 * repository lacks, commit unless the snapshot failed, release the snapshot.
 */
public final class BackupEngine {

    private static final DateTimeFormatter POINT_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Repository repository;
    private final ChunkCodec codec;
    private final SnapshotProvider snapshots;
    private final Clock clock;

    public BackupEngine(Repository repository, ChunkCodec codec, SnapshotProvider snapshots, Clock clock) {
        this.repository = repository;
        this.codec = codec;
        this.snapshots = snapshots;
        this.clock = clock;
    }

    public BackupResult backup(BackupSettings s, BackupListener listener) throws IOException {
        long startedNanos = System.nanoTime();
        Path device = s.device();
        long size = BlockDevices.sizeOf(device);
        String stableId = BlockDevices.stableId(device);
        String pointId = s.pointId().orElseGet(() -> POINT_TIME.format(clock.instant()) + "-"
                + device.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_"));
        Optional<RestorePointIndex> parent = latestPoint(s.node(), stableId);
        List<String> notes = new ArrayList<>();
        try (Snapshot snapshot = snapshots.take(List.of(device.toString()),
                new SnapshotOptions(s.diffStorage(), s.diffLimitBytes(), s.freeze()))) {
            Optional<Snapshot.Tracking> tracking = snapshot.tracking(device.toString());
            int chunkSize = parent.map(RestorePointIndex::chunkSizeBytes).orElse(s.chunkSizeBytes());
            Optional<RestorePointIndex> compatibleParent = parent.filter(p -> p.device().sizeBytes() == size);
            BackupModeDecision decision = decide(tracking, compatibleParent, s.full());
            Optional<BitSet> changed = Optional.empty();
            if (decision.mode() == BackupMode.Cbt) {
                CbtInfo info = tracking.orElseThrow().info();
                changed = Optional.of(ChangedChunks.since(tracking.get().map(), info.blockSizeBytes(), size, chunkSize,
                        (int) compatibleParent.orElseThrow().changeId().changeNumber()));
            }
            if (compatibleParent.isEmpty()) {
                chunkSize = s.chunkSizeBytes();
            }
            ChangeId changeId = tracking.map(t -> new ChangeId(t.info().generationHex(), t.info().changesNumber()))
                    .orElse(ChangeId.NONE);
            BackupRequest req = new BackupRequest(s.node(), pointId, new DeviceIdentity(stableId, size), chunkSize,
                    changeId, compatibleParent, changed);
            ExecutorService workers = Executors.newFixedThreadPool(s.workers(), r -> {
                Thread t = new Thread(r, "backup-encode");
                t.setDaemon(true);
                return t;
            });
            try (DeviceReader reader = DeviceReader.open(snapshot.image(device.toString()), s.directIo())) {
                reader.note().ifPresent(notes::add);
                BackupWriter.Options options = new BackupWriter.Options(Math.max(4, s.uploadsInFlight() * 2), 2,
                        s.uploadsInFlight(), new BandwidthLimiter(s.bandwidthLimitBytesPerSecond()), 2000);
                RestorePointIndex index = new BackupWriter(repository, codec, workers, options, s.workers())
                        .backup(req, reader, listener, snapshot::failure);
                return new BackupResult(s.node(), pointId, device.toString(), stableId, size, decision.mode(),
                        decision.reason(), snapshots.name(), snapshot.crashConsistent(), index.parentPointId(),
                        index.stats(), changed.map(BitSet::cardinality).orElse(index.chunks().size()),
                        (System.nanoTime() - startedNanos) / 1_000_000, reader.direct(), notes);
            } finally {
                workers.shutdownNow();
            }
        }
    }

    static BackupModeDecision decide(Optional<Snapshot.Tracking> tracking, Optional<RestorePointIndex> parent,
            boolean full) {
        BackupModeDecision.Tracking current = tracking.map(t -> new BackupModeDecision.Tracking(
                t.info().generationId(), t.info().changesNumber(), t.info().capacityBytes())).orElse(null);
        BackupModeDecision.Tracking before = parent.filter(p -> !p.changeId().generationId().isEmpty())
                .map(p -> new BackupModeDecision.Tracking(HexFormat.of().parseHex(p.changeId().generationId()),
                        (int) p.changeId().changeNumber(), p.device().sizeBytes()))
                .orElse(null);
        BackupModeDecision d = BackupModeDecision.decide(before, current, full);
        if (d.mode() == BackupMode.FullScan && parent.isPresent() && before == null) {
            return new BackupModeDecision(BackupMode.FullScan, "the parent " + parent.get().pointId()
                    + " was taken without change tracking");
        }
        return d;
    }

    /** The newest restore point of this device on this node, if any. */
    public Optional<RestorePointIndex> latestPoint(String node, String stableId) throws IOException {
        Optional<PointSummary> latest = repository.listPoints(Optional.of(node)).stream()
                .filter(p -> p.device().stableId().equals(stableId))
                .max(Comparator.comparing(PointSummary::finishedAt));
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(repository.readPoint(new PointRef(node, latest.get().ref().pointId())));
    }
}
