package io.blockvault.repository.format;

/**
 * An AES-256 key and the id recorded in every chunk it encrypts (so a key rotation can tell which
 * key a chunk needs). Key id 0 means "not encrypted" and is not allowed here.
 */
public record EncryptionKey(int keyId, byte[] key) {

    public EncryptionKey {
        if (keyId == 0) {
            throw new IllegalArgumentException("key id 0 is reserved for unencrypted chunks; choose another id");
        }
        if (key.length != 32) {
            throw new IllegalArgumentException("an AES-256 key has 32 bytes, got " + key.length);
        }
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "EncryptionKey[keyId=" + keyId + "]";
    }
}
