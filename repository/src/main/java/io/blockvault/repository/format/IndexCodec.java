package io.blockvault.repository.format;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The binary index file of a restore point (big-endian, strings as Java modified UTF-8):
 * magic "BVIX", u16 version, point id, node, device stable id, i64 device size, i32 chunk size,
 * generation id, i64 change number, parent id ("" for none), i64 started, i64 finished (epoch ms),
 * i32 key id, stats (5 x i64), i32 chunk count, count x 32-byte ids, then SHA-256 of everything
 * before it.
 */
public final class IndexCodec {

    static final byte[] MAGIC = {'B', 'V', 'I', 'X'};
    public static final int VERSION = 1;
    /** 16 Mi chunks: 64 TiB at the default 4 MiB chunk size. */
    public static final int MAX_CHUNKS = 16 << 20;
    /** Ids room is made for before they are read (a 256 GiB device at 4 MiB chunks); more grow the list. */
    static final int INITIAL_IDS = 1 << 16;

    private IndexCodec() {
    }

    public static void write(RestorePointIndex idx, OutputStream out) throws IOException {
        MessageDigest md = sha256();
        DataOutputStream d = new DataOutputStream(new DigestOutputStream(out, md));
        d.write(MAGIC);
        d.writeShort(VERSION);
        d.writeUTF(idx.pointId());
        d.writeUTF(idx.node());
        d.writeUTF(idx.device().stableId());
        d.writeLong(idx.device().sizeBytes());
        d.writeInt(idx.chunkSizeBytes());
        d.writeUTF(idx.changeId().generationId());
        d.writeLong(idx.changeId().changeNumber());
        d.writeUTF(idx.parentPointId().orElse(""));
        d.writeLong(idx.startedAtMillis());
        d.writeLong(idx.finishedAtMillis());
        d.writeInt(idx.keyId());
        PointStats s = idx.stats();
        d.writeLong(s.scannedBytes());
        d.writeLong(s.sentBytes());
        d.writeLong(s.newChunks());
        d.writeLong(s.zeroChunks());
        d.writeLong(s.reusedChunks());
        d.writeInt(idx.chunks().size());
        byte[] buf = new byte[ChunkId.LENGTH];
        for (ChunkId id : idx.chunks()) {
            id.copyTo(buf, 0);
            d.write(buf);
        }
        d.flush();
        out.write(md.digest());
        out.flush();
    }

    public static byte[] toBytes(RestorePointIndex idx) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128 + idx.chunks().size() * ChunkId.LENGTH);
        try {
            write(idx, b);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.toByteArray();
    }

    /** Reads and checks an index; any damage (truncation, bad checksum, bad field) is a FormatException. */
    public static RestorePointIndex read(InputStream in) throws IOException {
        MessageDigest md = sha256();
        DataInputStream d = new DataInputStream(new DigestInputStream(in, md));
        try {
            byte[] magic = d.readNBytes(4);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new FormatException("not a blockvault restore point index (bad magic)");
            }
            int version = d.readUnsignedShort();
            if (version != VERSION) {
                throw new FormatException("index format version " + version + " is not supported (knows "
                        + VERSION + "); upgrade blockvault");
            }
            String pointId = d.readUTF();
            String node = d.readUTF();
            String stableId = d.readUTF();
            long size = d.readLong();
            int chunkSize = d.readInt();
            String gen = d.readUTF();
            long changeNumber = d.readLong();
            String parent = d.readUTF();
            long started = d.readLong();
            long finished = d.readLong();
            int keyId = d.readInt();
            PointStats stats = new PointStats(d.readLong(), d.readLong(), d.readLong(), d.readLong(), d.readLong());
            int count = d.readInt();
            if (count < 0 || count > MAX_CHUNKS) {
                throw new FormatException("index lists " + count + " chunks, more than the limit " + MAX_CHUNKS);
            }
            // Sized by what arrives, not by what the count promises: the transport parses indexes a
            // node sent, and a few hundred bytes announcing 16 Mi ids would otherwise cost 64 MiB.
            List<ChunkId> ids = new ArrayList<>(Math.min(count, INITIAL_IDS));
            byte[] buf = new byte[ChunkId.LENGTH];
            for (int i = 0; i < count; i++) {
                d.readFully(buf);
                ids.add(ChunkId.of(buf));
            }
            byte[] expected = md.digest();
            byte[] actual = new byte[32];
            new DataInputStream(in).readFully(actual);
            if (!MessageDigest.isEqual(expected, actual)) {
                throw new FormatException("index " + pointId + " is damaged: checksum mismatch");
            }
            if (in.read() != -1) {
                throw new FormatException("index " + pointId + " has trailing bytes after its checksum");
            }
            try {
                return new RestorePointIndex(pointId, node, new DeviceIdentity(stableId, size), chunkSize,
                        new ChangeId(gen, changeNumber), parent.isEmpty() ? Optional.empty() : Optional.of(parent),
                        started, finished, keyId, stats, ids);
            } catch (IllegalArgumentException e) {
                throw new FormatException("index " + pointId + " is inconsistent: " + e.getMessage(), e);
            }
        } catch (EOFException e) {
            throw new FormatException("index is truncated", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
