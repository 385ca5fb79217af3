package io.blockvault.repository.format;

import com.github.luben.zstd.Zstd;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns plaintext chunks into stored chunks and back, on the client: id = HMAC-SHA-256(id key,
 * plaintext), zstd level 1 (kept raw when that is not smaller), then AES-256-GCM with a random
 * 96-bit nonce when a key is configured. The GCM additional data binds the header fields and the
 * id, so a payload moved under another id fails to decrypt. Decoding re-checks everything and
 * returns plaintext only when its HMAC equals the id. Thread-safe.
 */
public final class ChunkCodec {

    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final int ZSTD_LEVEL = 1;

    private final ChunkKeys keys;
    private final SecureRandom random;

    public ChunkCodec(ChunkKeys keys, SecureRandom random) {
        this.keys = keys;
        this.random = random;
    }

    public ChunkCodec(ChunkKeys keys) {
        this(keys, new SecureRandom());
    }

    /** The id of {@code length} bytes of plaintext. */
    public ChunkId idOf(byte[] plain, int offset, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(keys.idKey(), "HmacSHA256"));
            mac.update(plain, offset, length);
            return ChunkId.of(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is unavailable in this JVM", e);
        }
    }

    public static boolean isAllZero(byte[] data, int offset, int length) {
        int end = offset + length;
        int i = offset;
        for (; i + 8 <= end; i += 8) {
            if ((data[i] | data[i + 1] | data[i + 2] | data[i + 3] | data[i + 4] | data[i + 5] | data[i + 6]
                    | data[i + 7]) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    public EncodedChunk encode(byte[] plain, int offset, int length) {
        if (length <= 0 || length > ChunkHeader.MAX_PLAIN_SIZE) {
            throw new IllegalArgumentException("chunk plaintext must be 1.." + ChunkHeader.MAX_PLAIN_SIZE
                    + " bytes, got " + length);
        }
        ChunkId id = idOf(plain, offset, length);
        byte[] body;
        int flags = 0;
        byte[] compressed = new byte[(int) Zstd.compressBound(length)];
        long n = Zstd.compressByteArray(compressed, 0, compressed.length, plain, offset, length, ZSTD_LEVEL);
        if (Zstd.isError(n)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        if (n < length) {
            body = Arrays.copyOf(compressed, (int) n);
            flags |= ChunkHeader.FLAG_ZSTD;
            // Guard against a compressor bug (restic 0.16): decompress again before we trust it.
            byte[] check = new byte[length];
            long m = Zstd.decompressByteArray(check, 0, length, body, 0, body.length);
            if (Zstd.isError(m) || m != length || !Arrays.equals(check, 0, length, plain, offset, offset + length)) {
                throw new IllegalStateException("zstd round trip of chunk " + id + " did not reproduce the input");
            }
        } else {
            body = Arrays.copyOfRange(plain, offset, offset + length);
        }
        Optional<EncryptionKey> enc = keys.encryption();
        int keyId = 0;
        if (enc.isPresent()) {
            flags |= ChunkHeader.FLAG_ENCRYPTED;
            keyId = enc.get().keyId();
            body = encrypt(enc.get(), id, flags, keyId, length, body);
        }
        byte[] stored = new byte[ChunkHeader.SIZE + body.length];
        System.arraycopy(body, 0, stored, ChunkHeader.SIZE, body.length);
        new ChunkHeader(ChunkHeader.VERSION, flags, keyId, length, body.length, id,
                ChunkHeader.sha256(body, 0, body.length)).writeTo(stored);
        return new EncodedChunk(id, stored, length);
    }

    /**
     * Returns the plaintext of a stored chunk, or throws when anything (header, payload checksum,
     * authentication tag, size, id) does not match: damaged data is never returned as good.
     */
    public byte[] decode(ChunkId expected, byte[] stored, int length) throws FormatException {
        ChunkHeader h = ChunkHeader.verifyStored(expected, stored, length);
        byte[] body = Arrays.copyOfRange(stored, ChunkHeader.SIZE, ChunkHeader.SIZE + h.payloadSize());
        if (h.encrypted()) {
            EncryptionKey key = keys.decryptionKey(h.keyId()).orElseThrow(() ->
                    new FormatException("chunk " + expected + " is encrypted with key id " + h.keyId()
                            + ", which this client was not given; configure that key"));
            body = decrypt(key, h, body);
        }
        byte[] plain;
        if (h.compressed()) {
            plain = new byte[h.plainSize()];
            long m = Zstd.decompressByteArray(plain, 0, plain.length, body, 0, body.length);
            if (Zstd.isError(m) || m != h.plainSize()) {
                throw new FormatException("chunk " + expected + " does not decompress to its recorded size");
            }
        } else {
            plain = body;
            if (plain.length != h.plainSize()) {
                throw new FormatException("chunk " + expected + " has " + plain.length + " plaintext bytes, header says "
                        + h.plainSize());
            }
        }
        if (!MessageDigest.isEqual(idOf(plain, 0, plain.length).bytes(), expected.bytes())) {
            throw new FormatException("chunk " + expected + " is damaged or was stored under a wrong id: "
                    + "its plaintext does not hash to its id");
        }
        return plain;
    }

    private static byte[] aad(ChunkId id, int flags, int keyId, int plainSize) {
        byte[] aad = new byte[4 + 4 + 4 + ChunkId.LENGTH];
        java.nio.ByteBuffer.wrap(aad).putInt(flags).putInt(keyId).putInt(plainSize);
        id.copyTo(aad, 12);
        return aad;
    }

    private byte[] encrypt(EncryptionKey key, ChunkId id, int flags, int keyId, int plainSize, byte[] body) {
        try {
            byte[] nonce = new byte[NONCE];
            random.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key.key(), "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad(id, flags, keyId, plainSize));
            byte[] out = new byte[NONCE + c.getOutputSize(body.length)];
            System.arraycopy(nonce, 0, out, 0, NONCE);
            c.doFinal(body, 0, body.length, out, NONCE);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM encryption failed", e);
        }
    }

    private static byte[] decrypt(EncryptionKey key, ChunkHeader h, byte[] body) throws FormatException {
        if (body.length < NONCE + TAG_BITS / 8) {
            throw new FormatException("encrypted chunk " + h.id() + " is too short");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key.key(), "AES"),
                    new GCMParameterSpec(TAG_BITS, body, 0, NONCE));
            c.updateAAD(aad(h.id(), h.flags(), h.keyId(), h.plainSize()));
            return c.doFinal(body, NONCE, body.length - NONCE);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new FormatException("chunk " + h.id() + " failed authentication (damaged, or the wrong key)", e);
        } catch (GeneralSecurityException e) {
            throw new FormatException("chunk " + h.id() + " could not be decrypted: " + e.getMessage(), e);
        }
    }
}
