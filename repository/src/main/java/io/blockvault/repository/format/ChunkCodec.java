package io.blockvault.repository.format;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.lang.ref.Cleaner;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns plaintext chunks into stored chunks and back, on the client: id = HMAC-SHA-256(id key,
 * plaintext), zstd level 1 (kept raw when that is not smaller), then AES-256-GCM with a random
 * 96-bit nonce when a key is configured. The GCM additional data binds the header fields and the
 * id, so a payload moved under another id fails to decrypt. Decoding re-checks everything and
 * returns plaintext only when its HMAC equals the id. Thread-safe.
 * <p>
 * Each thread keeps its own MAC, cipher, zstd contexts and scratch buffers ({@link Scratch}): a
 * backup encodes every chunk once per worker, and allocating and initialising these per chunk cost
 * more than the encryption (see node-agent/README.md, "where the time goes"). Encoding writes the
 * ciphertext straight into the stored array, the only allocation per chunk.
 */
public final class ChunkCodec {

    private static final int NONCE = AesGcm.NONCE;
    private static final int TAG = AesGcm.TAG;
    private static final int ZSTD_LEVEL = 1;
    private static final Cleaner CLEANER = Cleaner.create();

    private final ChunkKeys keys;
    private final SecureRandom random;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(this::newScratch);

    public ChunkCodec(ChunkKeys keys, SecureRandom random) {
        this.keys = keys;
        this.random = random;
    }

    public ChunkCodec(ChunkKeys keys) {
        this(keys, new SecureRandom());
    }

    /** The id of {@code length} bytes of plaintext. */
    public ChunkId idOf(byte[] plain, int offset, int length) {
        Mac mac = scratch.get().mac;
        mac.update(plain, offset, length);
        return ChunkId.of(mac.doFinal());
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
        checkPlainLength(length);
        return encode(plain, offset, length, idOf(plain, offset, length));
    }

    /**
     * As {@link #encode(byte[], int, int)} for a chunk whose id the caller computed from these very
     * bytes (a backup asks the repository which ids it lacks before it encodes anything, and must
     * not pay the HMAC twice). The buffer must not change in between: the id is not checked again.
     */
    public EncodedChunk encode(byte[] plain, int offset, int length, ChunkId id) {
        checkPlainLength(length);
        Scratch s = scratch.get();
        int compressed = compress(s, id, plain, offset, length);
        int flags = compressed < length ? ChunkHeader.FLAG_ZSTD : 0;
        byte[] body = flags != 0 ? s.compressed : plain;
        int bodyOffset = flags != 0 ? 0 : offset;
        int bodyLength = flags != 0 ? compressed : length;
        Optional<EncryptionKey> enc = keys.encryption();
        int keyId = enc.map(EncryptionKey::keyId).orElse(0);
        if (enc.isPresent()) {
            flags |= ChunkHeader.FLAG_ENCRYPTED;
        }
        int payload = enc.isPresent() ? NONCE + bodyLength + TAG : bodyLength;
        byte[] stored = new byte[ChunkHeader.SIZE + payload];
        if (enc.isPresent()) {
            encrypt(s, enc.get(), id, flags, keyId, length, body, bodyOffset, bodyLength, stored, ChunkHeader.SIZE);
        } else {
            System.arraycopy(body, bodyOffset, stored, ChunkHeader.SIZE, bodyLength);
        }
        new ChunkHeader(ChunkHeader.VERSION, flags, keyId, length, payload, id,
                ChunkHeader.sha256(stored, ChunkHeader.SIZE, payload)).writeTo(stored);
        return new EncodedChunk(id, stored, length);
    }

    private static void checkPlainLength(int length) {
        if (length <= 0 || length > ChunkHeader.MAX_PLAIN_SIZE) {
            throw new IllegalArgumentException("chunk plaintext must be 1.." + ChunkHeader.MAX_PLAIN_SIZE
                    + " bytes, got " + length);
        }
    }

    /**
     * Compresses into the thread's scratch buffer; returns the compressed size, or {@code length}
     * and more when compression does not pay. What it produced is decompressed again and compared
     * before it is trusted: a compressor bug once silently damaged another tool's backups (restic
     * 0.16), and here it would go unnoticed until a restore. Decompression is several times faster
     * than compression, so this costs a fraction of the compression itself.
     */
    private static int compress(Scratch s, ChunkId id, byte[] plain, int offset, int length) {
        s.ensure(length);
        int n;
        try {
            n = s.compressor.compressByteArray(s.compressed, 0, s.compressed.length, plain, offset, length);
        } catch (ZstdException e) {
            throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
        if (n >= length) {
            return n;
        }
        int m;
        try {
            m = s.decompressor.decompressByteArray(s.check, 0, length, s.compressed, 0, n);
        } catch (ZstdException e) {
            m = -1;
        }
        if (m != length || !Arrays.equals(s.check, 0, length, plain, offset, offset + length)) {
            throw new IllegalStateException("zstd round trip of chunk " + id + " did not reproduce the input");
        }
        return n;
    }

    /**
     * Returns the plaintext of a stored chunk, or throws when anything (header, payload checksum,
     * authentication tag, size, id) does not match: damaged data is never returned as good.
     */
    public byte[] decode(ChunkId expected, byte[] stored, int length) throws FormatException {
        ChunkHeader h = ChunkHeader.verifyStored(expected, stored, length);
        Scratch s = scratch.get();
        byte[] body = stored;
        int bodyOffset = ChunkHeader.SIZE;
        int bodyLength = h.payloadSize();
        if (h.encrypted()) {
            EncryptionKey key = keys.decryptionKey(h.keyId()).orElseThrow(() ->
                    new FormatException("chunk " + expected + " is encrypted with key id " + h.keyId()
                            + ", which this client was not given; configure that key"));
            bodyLength = decrypt(s, key, h, stored);
            body = s.compressed;
            bodyOffset = 0;
        }
        byte[] plain = new byte[h.plainSize()];
        if (h.compressed()) {
            int m;
            try {
                m = s.decompressor.decompressByteArray(plain, 0, plain.length, body, bodyOffset, bodyLength);
            } catch (ZstdException e) {
                m = -1;
            }
            if (m != h.plainSize()) {
                throw new FormatException("chunk " + expected + " does not decompress to its recorded size");
            }
        } else {
            if (bodyLength != h.plainSize()) {
                throw new FormatException("chunk " + expected + " has " + bodyLength + " plaintext bytes, header says "
                        + h.plainSize());
            }
            System.arraycopy(body, bodyOffset, plain, 0, bodyLength);
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

    private void encrypt(Scratch s, EncryptionKey key, ChunkId id, int flags, int keyId, int plainSize, byte[] body,
            int bodyOffset, int bodyLength, byte[] out, int outOffset) {
        try {
            random.nextBytes(s.nonce);
            System.arraycopy(s.nonce, 0, out, outOffset, NONCE);
            s.gcm.encrypt(key.key(), s.nonce, aad(id, flags, keyId, plainSize), body, bodyOffset, bodyLength, out,
                    outOffset + NONCE);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM encryption failed", e);
        }
    }

    /** Decrypts the payload of {@code stored} into the scratch buffer; returns the plaintext length. */
    private static int decrypt(Scratch s, EncryptionKey key, ChunkHeader h, byte[] stored) throws FormatException {
        int payload = h.payloadSize();
        if (payload < NONCE + TAG) {
            throw new FormatException("encrypted chunk " + h.id() + " is too short");
        }
        try {
            s.ensure(payload);
            return s.gcm.decrypt(key.key(), stored, ChunkHeader.SIZE, aad(h.id(), h.flags(), h.keyId(), h.plainSize()),
                    stored, ChunkHeader.SIZE + NONCE, payload - NONCE, s.compressed, 0);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new FormatException("chunk " + h.id() + " failed authentication (damaged, or the wrong key)", e);
        } catch (GeneralSecurityException e) {
            throw new FormatException("chunk " + h.id() + " could not be decrypted: " + e.getMessage(), e);
        }
    }

    private Scratch newScratch() {
        Scratch s = new Scratch(keys.idKey());
        ZstdCompressCtx compressor = s.compressor;
        ZstdDecompressCtx decompressor = s.decompressor;
        CLEANER.register(s, () -> {
            compressor.close();
            decompressor.close();
        });
        return s;
    }

    /** One thread's working state: primitives initialised once, buffers grown to the largest chunk seen. */
    private static final class Scratch {
        final Mac mac;
        final AesGcm gcm = new AesGcm();
        final ZstdCompressCtx compressor = new ZstdCompressCtx().setLevel(ZSTD_LEVEL);
        final ZstdDecompressCtx decompressor = new ZstdDecompressCtx();
        final byte[] nonce = new byte[NONCE];
        byte[] compressed = new byte[0];
        byte[] check = new byte[0];

        Scratch(byte[] idKey) {
            try {
                mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(idKey, "HmacSHA256"));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JVM lacks HMAC-SHA-256", e);
            }
        }

        /** Room for a chunk of {@code length} plaintext bytes: its compressed form, its round trip, a GCM payload. */
        void ensure(int length) {
            int bound = (int) Math.max(Zstd.compressBound(length), length + NONCE + TAG);
            if (compressed.length < bound) {
                compressed = new byte[bound];
            }
            if (check.length < length) {
                check = new byte[length];
            }
        }
    }
}
