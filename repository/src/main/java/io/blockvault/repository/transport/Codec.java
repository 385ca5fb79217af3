package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.PointStats;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Encodings of the structured replies (listings, verify reports, statistics). */
public final class Codec {

    private Codec() {
    }

    public static void writeSummary(DataOutputStream o, PointSummary p) throws IOException {
        o.writeUTF(p.ref().node());
        o.writeUTF(p.ref().pointId());
        o.writeUTF(p.device().stableId());
        o.writeLong(p.device().sizeBytes());
        o.writeInt(p.chunkSizeBytes());
        o.writeUTF(p.changeId().generationId());
        o.writeLong(p.changeId().changeNumber());
        o.writeUTF(p.parentPointId().orElse(""));
        o.writeLong(p.startedAt().toEpochMilli());
        o.writeLong(p.finishedAt().toEpochMilli());
        PointStats s = p.stats();
        o.writeLong(s.scannedBytes());
        o.writeLong(s.sentBytes());
        o.writeLong(s.newChunks());
        o.writeLong(s.zeroChunks());
        o.writeLong(s.reusedChunks());
        o.writeBoolean(p.sealed());
        o.writeLong(p.lockedUntil().map(Instant::toEpochMilli).orElse(-1L));
    }

    public static PointSummary readSummary(DataInputStream d) throws IOException {
        PointRef ref = new PointRef(d.readUTF(), d.readUTF());
        DeviceIdentity dev = new DeviceIdentity(d.readUTF(), d.readLong());
        int chunk = d.readInt();
        ChangeId change = new ChangeId(d.readUTF(), d.readLong());
        String parent = d.readUTF();
        Instant started = Instant.ofEpochMilli(d.readLong());
        Instant finished = Instant.ofEpochMilli(d.readLong());
        PointStats stats = new PointStats(d.readLong(), d.readLong(), d.readLong(), d.readLong(), d.readLong());
        boolean sealed = d.readBoolean();
        long until = d.readLong();
        return new PointSummary(ref, dev, chunk, change, parent.isEmpty() ? Optional.empty() : Optional.of(parent),
                started, finished, stats, sealed, until < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(until)));
    }

    public static void writeReport(DataOutputStream o, VerifyReport r, int maxItems) throws IOException {
        o.writeInt(r.pointsChecked());
        o.writeLong(r.chunksChecked());
        List<VerifyReport.DamagedChunk> damaged = r.damaged().subList(0, Math.min(maxItems, r.damaged().size()));
        o.writeInt(damaged.size());
        for (VerifyReport.DamagedChunk c : damaged) {
            o.write(c.id().bytes());
            o.writeUTF(c.problem().length() > 1000 ? c.problem().substring(0, 1000) : c.problem());
            List<PointRef> pts = c.points().subList(0, Math.min(100, c.points().size()));
            o.writeInt(pts.size());
            for (PointRef p : pts) {
                o.writeUTF(p.node());
                o.writeUTF(p.pointId());
            }
        }
        List<PointRef> broken = r.brokenPoints().subList(0, Math.min(maxItems, r.brokenPoints().size()));
        o.writeInt(broken.size());
        for (PointRef p : broken) {
            o.writeUTF(p.node());
            o.writeUTF(p.pointId());
        }
    }

    public static VerifyReport readReport(DataInputStream d) throws IOException {
        int points = d.readInt();
        long chunks = d.readLong();
        int n = d.readInt();
        List<VerifyReport.DamagedChunk> damaged = new ArrayList<>();
        byte[] id = new byte[ChunkId.LENGTH];
        for (int i = 0; i < n; i++) {
            d.readFully(id);
            String problem = d.readUTF();
            int m = d.readInt();
            List<PointRef> refs = new ArrayList<>();
            for (int k = 0; k < m; k++) {
                refs.add(new PointRef(d.readUTF(), d.readUTF()));
            }
            damaged.add(new VerifyReport.DamagedChunk(ChunkId.of(id), problem, refs));
        }
        int b = d.readInt();
        List<PointRef> broken = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            broken.add(new PointRef(d.readUTF(), d.readUTF()));
        }
        return new VerifyReport(points, chunks, damaged, broken);
    }

    public static void writeStats(DataOutputStream o, RepositoryStats s) throws IOException {
        o.writeLong(s.capacityBytes());
        o.writeLong(s.usedBytes());
        o.writeLong(s.freeBytes());
        o.writeLong(s.storedBytes());
        o.writeLong(s.logicalBytes());
        o.writeLong(s.restorePoints());
        o.writeLong(s.sealedPoints());
        o.writeBoolean(s.guardTrustedNow().isPresent());
        o.writeLong(s.guardTrustedNow().map(Instant::toEpochMilli).orElse(0L));
        o.writeInt(s.lockDays());
        String warning = s.clockWarning().orElse("");
        // a warning is one log line; the cap keeps it inside writeUTF's 64 KiB
        o.writeUTF(warning.length() > 2000 ? warning.substring(0, 2000) : warning);
        // appended after the fields of 0.1.0, whose readers ignore what follows them
        String frozen = s.clockFrozen().orElse("");
        o.writeUTF(frozen.length() > 2000 ? frozen.substring(0, 2000) : frozen);
    }

    public static RepositoryStats readStats(DataInputStream d) throws IOException {
        long capacity = d.readLong();
        long used = d.readLong();
        long free = d.readLong();
        long stored = d.readLong();
        long logical = d.readLong();
        long points = d.readLong();
        long sealed = d.readLong();
        boolean guardSeen = d.readBoolean();
        long trustedNow = d.readLong();
        int lockDays = d.readInt();
        String warning = d.readUTF();
        String frozen = d.available() > 0 ? d.readUTF() : ""; // a 0.1.0 transport does not send it
        return new RepositoryStats(capacity, used, free, stored, logical, points, sealed,
                guardSeen ? Optional.of(Instant.ofEpochMilli(trustedNow)) : Optional.empty(), lockDays,
                warning.isEmpty() ? Optional.empty() : Optional.of(warning),
                frozen.isEmpty() ? Optional.empty() : Optional.of(frozen));
    }
}
