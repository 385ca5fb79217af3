package io.blockvault.repository.format;

/** A chunk ready to store: its id and its stored bytes (header and payload). */
public record EncodedChunk(ChunkId id, byte[] stored, int plainSize) {
}
