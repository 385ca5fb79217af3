package io.blockvault.repository.format;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The fixed 88-byte header in front of every stored chunk (big-endian):
 * <pre>
 *  0  4  magic "BVCK"
 *  4  1  format version (1)
 *  5  1  flags: bit 0 zstd-compressed, bit 1 AES-256-GCM encrypted
 *  6  2  reserved, 0
 *  8  4  key id (0 = not encrypted)
 * 12  4  plaintext size
 * 16  4  payload size (bytes after the header)
 * 20 32  chunk id
 * 52 32  SHA-256 of the payload
 * 84  4  CRC32C of bytes 0..83
 * </pre>
 * Anyone holding the stored bytes (the server, the guard, verify) can check them against the
 * header without any key; only a client holding the keys can check the plaintext against the id.
 */
public record ChunkHeader(int version, int flags, int keyId, int plainSize, int payloadSize, ChunkId id,
        byte[] payloadSha256) {

    public static final int SIZE = 88;
    public static final int VERSION = 1;
    public static final int FLAG_ZSTD = 1;
    public static final int FLAG_ENCRYPTED = 2;
    static final byte[] MAGIC = {'B', 'V', 'C', 'K'};
    /** Largest plaintext chunk the format accepts (64 MiB). */
    public static final int MAX_PLAIN_SIZE = 64 << 20;

    public ChunkHeader {
        payloadSha256 = payloadSha256.clone();
    }

    @Override
    public byte[] payloadSha256() {
        return payloadSha256.clone();
    }

    public boolean compressed() {
        return (flags & FLAG_ZSTD) != 0;
    }

    public boolean encrypted() {
        return (flags & FLAG_ENCRYPTED) != 0;
    }

    public int storedSize() {
        return SIZE + payloadSize;
    }

    void writeTo(byte[] target) {
        ByteBuffer b = ByteBuffer.wrap(target, 0, SIZE);
        b.put(MAGIC).put((byte) version).put((byte) flags).putShort((short) 0).putInt(keyId).putInt(plainSize)
                .putInt(payloadSize);
        id.copyTo(target, 20);
        System.arraycopy(payloadSha256, 0, target, 52, 32);
        CRC32C crc = new CRC32C();
        crc.update(target, 0, 84);
        ByteBuffer.wrap(target, 84, 4).putInt((int) crc.getValue());
    }

    /** Parses and checks the header (magic, version, CRC, sizes); does not look at the payload. */
    public static ChunkHeader parse(byte[] stored, int length) throws FormatException {
        if (length < SIZE) {
            throw new FormatException("chunk is " + length + " bytes, shorter than its " + SIZE + "-byte header");
        }
        if (!Arrays.equals(stored, 0, 4, MAGIC, 0, 4)) {
            throw new FormatException("not a blockvault chunk (bad magic)");
        }
        CRC32C crc = new CRC32C();
        crc.update(stored, 0, 84);
        ByteBuffer b = ByteBuffer.wrap(stored, 0, SIZE);
        if (b.getInt(84) != (int) crc.getValue()) {
            throw new FormatException("chunk header checksum mismatch");
        }
        int version = stored[4] & 0xff;
        if (version != VERSION) {
            throw new FormatException("chunk format version " + version + " is not supported by this build (knows "
                    + VERSION + "); upgrade blockvault");
        }
        int flags = stored[5] & 0xff;
        int keyId = b.getInt(8);
        int plainSize = b.getInt(12);
        int payloadSize = b.getInt(16);
        if (plainSize <= 0 || plainSize > MAX_PLAIN_SIZE || payloadSize < 0) {
            throw new FormatException("chunk header has impossible sizes (plain " + plainSize + ", payload "
                    + payloadSize + ")");
        }
        if ((flags & FLAG_ENCRYPTED) != 0 && keyId == 0 || (flags & FLAG_ENCRYPTED) == 0 && keyId != 0) {
            throw new FormatException("chunk header flags and key id disagree");
        }
        return new ChunkHeader(version, flags, keyId, plainSize, payloadSize, ChunkId.of(stored, 20),
                Arrays.copyOfRange(stored, 52, 84));
    }

    /**
     * Checks stored bytes without keys: header valid, the id in it is {@code expected}, the length
     * matches and the payload's SHA-256 matches the header. This is what the server, the guard and
     * verify run.
     */
    public static ChunkHeader verifyStored(ChunkId expected, byte[] stored, int length) throws FormatException {
        ChunkHeader h = parse(stored, length);
        if (!h.id().equals(expected)) {
            throw new FormatException("chunk " + expected + " carries the id " + h.id() + " in its header");
        }
        if (length != h.storedSize()) {
            throw new FormatException("chunk " + expected + " is " + length + " bytes, its header says "
                    + h.storedSize());
        }
        byte[] sha = sha256(stored, SIZE, h.payloadSize());
        if (!MessageDigest.isEqual(sha, h.payloadSha256)) {
            throw new FormatException("chunk " + expected + " is damaged: its payload does not match its SHA-256");
        }
        return h;
    }

    static byte[] sha256(byte[] data, int offset, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, offset, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256", e);
        }
    }
}
