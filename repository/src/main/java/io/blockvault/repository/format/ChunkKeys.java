package io.blockvault.repository.format;

import java.util.List;
import java.util.Optional;

/**
 * The client-side secrets of one repository: the id key (chunk ids are HMACs under it, so the
 * server cannot confirm guessed content), the encryption key new chunks are written with when the
 * policy has one, and the older keys of earlier rotations that chunks may still name (only read).
 */
public record ChunkKeys(byte[] idKey, Optional<EncryptionKey> encryption, List<EncryptionKey> previous) {

    public ChunkKeys {
        if (idKey.length < 32) {
            throw new IllegalArgumentException("the repository id key needs at least 32 bytes, got " + idKey.length);
        }
        idKey = idKey.clone();
        previous = List.copyOf(previous);
        long distinct = previous.stream().mapToInt(EncryptionKey::keyId).distinct().count();
        if (distinct != previous.size()
                || encryption.isPresent() && previous.stream().anyMatch(k -> k.keyId() == encryption.get().keyId())) {
            throw new IllegalArgumentException("two keys have the same key id; every key id names one key");
        }
    }

    /** Keys of a repository that was never rotated. */
    public ChunkKeys(byte[] idKey, Optional<EncryptionKey> encryption) {
        this(idKey, encryption, List.of());
    }

    @Override
    public byte[] idKey() {
        return idKey.clone();
    }

    /** The key a chunk that records {@code keyId} was encrypted with, if this client has it. */
    public Optional<EncryptionKey> decryptionKey(int keyId) {
        return encryption.filter(k -> k.keyId() == keyId)
                .or(() -> previous.stream().filter(k -> k.keyId() == keyId).findFirst());
    }

    @Override
    public String toString() {
        return "ChunkKeys[encryption=" + encryption.map(e -> "keyId " + e.keyId()).orElse("none")
                + (previous.isEmpty() ? "" : ", previous=" + previous.stream().map(EncryptionKey::keyId).toList()) + "]";
    }
}
