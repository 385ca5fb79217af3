package io.blockvault.repository.format;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The address of a chunk: HMAC-SHA-256 of its plaintext keyed with the repository's id key. The
 * all-zero id stands for a chunk of zeros, which is never stored.
 */
public final class ChunkId implements Comparable<ChunkId> {

    public static final int LENGTH = 32;
    private static final HexFormat HEX = HexFormat.of();
    /** The id recorded in an index for an all-zero chunk; no chunk file exists for it. */
    public static final ChunkId ZERO = new ChunkId(new byte[LENGTH]);

    private final byte[] bytes;

    private ChunkId(byte[] bytes) {
        this.bytes = bytes;
    }

    public static ChunkId of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a chunk id has " + LENGTH + " bytes, got " + bytes.length);
        }
        return new ChunkId(bytes.clone());
    }

    public static ChunkId of(byte[] bytes, int offset) {
        return new ChunkId(Arrays.copyOfRange(bytes, offset, offset + LENGTH));
    }

    /** Parses 64 lower- or upper-case hex digits. */
    public static ChunkId parse(String hex) {
        if (hex.length() != LENGTH * 2) {
            throw new IllegalArgumentException("a chunk id is " + (LENGTH * 2) + " hex digits, got '" + hex + "'");
        }
        return new ChunkId(HEX.parseHex(hex));
    }

    public boolean isZero() {
        return Arrays.equals(bytes, ZERO.bytes);
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public void copyTo(byte[] target, int offset) {
        System.arraycopy(bytes, 0, target, offset, LENGTH);
    }

    public String hex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    @Override
    public int compareTo(ChunkId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
