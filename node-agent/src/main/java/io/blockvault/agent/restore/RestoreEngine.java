package io.blockvault.agent.restore;

import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.agent.device.BlockDevices;
import io.blockvault.agent.device.DeviceWriter;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * Writes a restore point to a block device or a file: refuses a mounted device unless forced,
 * checks the target is large enough, verifies every chunk before writing it (in
 * {@link RestoreReader}), writes zero chunks as zeroes, and rewrites only the changed chunks when a
 * quick rollback is possible.
 */
public final class RestoreEngine {

    /** The tracker's state of a device now (a take made for the purpose); empty when untracked. */
    @FunctionalInterface
    public interface TrackerProbe {
        Optional<Tracker> probe(Path device) throws IOException;
    }

    /** Tracker info and the frozen map. */
    public record Tracker(CbtInfo info, byte[] map) {
    }

    private final Repository repository;
    private final ChunkCodec codec;
    private final TrackerProbe trackers;

    public RestoreEngine(Repository repository, ChunkCodec codec, TrackerProbe trackers) {
        this.repository = repository;
        this.codec = codec;
        this.trackers = trackers;
    }

    public RestoreResult restore(PointRef ref, RestoreSettings s, RestoreListener listener) throws IOException {
        long started = System.nanoTime();
        Path target = s.target();
        boolean exists = Files.exists(target);
        boolean block = exists && BlockDevices.isBlockDevice(target);
        if (block && !s.force()) {
            Optional<Path> mount = BlockDevices.mountPoint(target);
            if (mount.isPresent()) {
                throw new IOException("device " + target + " is mounted at " + mount.get()
                        + "; unmount it or pass --force");
            }
        }
        RestorePointIndex idx = repository.readPoint(ref);
        long size = idx.device().sizeBytes();
        if (block && BlockDevices.sizeOf(target) < size) {
            throw new IOException("device " + target + " has " + BlockDevices.sizeOf(target) + " bytes, restore point "
                    + ref + " needs " + size + "; choose a device at least that large");
        }
        QuickRollback.Plan plan = new QuickRollback.Plan(Optional.empty(), "a full restore was asked for");
        if (s.quickRollback() && block) {
            Optional<Tracker> t = trackers.probe(target);
            plan = QuickRollback.plan(idx, BlockDevices.stableId(target), t.map(Tracker::info), t.map(Tracker::map));
        }
        List<String> notes = new ArrayList<>();
        try (DeviceWriter writer = DeviceWriter.open(target, size, s.directIo())) {
            long written = new RestoreReader(repository, codec, 8, s.fetchesInFlight(), 2000)
                    .restore(idx, writer, plan.chunks(), writer.targetIsZeroed(), listener);
            notes.addAll(writer.notes());
            return new RestoreResult(ref.node(), ref.pointId(), target.toString(), size, written,
                    plan.chunks().map(BitSet::cardinality).orElse(idx.chunks().size()), idx.chunks().size(),
                    plan.chunks().isPresent(), plan.reason(), (System.nanoTime() - started) / 1_000_000,
                    writer.direct(), notes);
        }
    }
}
