package io.blockvault.repository.format;

import java.util.Optional;

/**
 * The client-side secrets of one repository: the id key (chunk ids are HMACs under it, so the
 * server cannot confirm guessed content) and, when the policy has one, the encryption key.
 */
public record ChunkKeys(byte[] idKey, Optional<EncryptionKey> encryption) {

    public ChunkKeys {
        if (idKey.length < 32) {
            throw new IllegalArgumentException("the repository id key needs at least 32 bytes, got " + idKey.length);
        }
        idKey = idKey.clone();
    }

    @Override
    public byte[] idKey() {
        return idKey.clone();
    }

    @Override
    public String toString() {
        return "ChunkKeys[encryption=" + encryption.map(e -> "keyId " + e.keyId()).orElse("none") + "]";
    }
}
