package io.blockvault.repository.format;

/**
 * Valid stored chunks without keys or encoding cost, for load tests: a fixed payload under any id
 * (the server checks the header and the payload checksum, not the id; only clients can).
 */
public final class TestChunks {

    private final byte[] payload;
    private final byte[] sha;

    public TestChunks(byte[] payload) {
        this.payload = payload.clone();
        this.sha = ChunkHeader.sha256(payload, 0, payload.length);
    }

    /** A stored chunk with this payload under {@code id}. */
    public byte[] stored(ChunkId id) {
        byte[] out = new byte[ChunkHeader.SIZE + payload.length];
        System.arraycopy(payload, 0, out, ChunkHeader.SIZE, payload.length);
        new ChunkHeader(ChunkHeader.VERSION, 0, 0, payload.length, payload.length, id, sha).writeTo(out);
        return out;
    }

    /** Rewrites only the header of a buffer made by {@link #stored} for another id. */
    public void reuse(byte[] stored, ChunkId id) {
        new ChunkHeader(ChunkHeader.VERSION, 0, 0, payload.length, payload.length, id, sha).writeTo(stored);
    }
}
