package io.blockvault.repository.format;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.lang.ref.Cleaner;
import java.util.Optional;

/**
 * AES-256-GCM through OpenSSL's libcrypto (EVP interface, JNA direct mapping). The JDK's GCM runs
 * at full speed only once the JIT has compiled its callers with the CLMUL intrinsics, and a chunk of
 * megabytes is one call: a fresh agent process decrypted its first few hundred megabytes at
 * 80-300 MB/s per core. libcrypto runs at its full speed from the first chunk (about 4 GB/s per core
 * on this project's machines). One instance per thread, like {@link AesGcm}, which chooses it.
 */
final class OpenSslGcm {

    private static final int EVP_CTRL_GCM_GET_TAG = 0x10;
    private static final int EVP_CTRL_GCM_SET_TAG = 0x11;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Optional<String> UNAVAILABLE = register();

    private final Pointer ctx;
    private final int[] outLength = new int[1];
    /** Input and output at once: EVP works in place, so one native copy of a chunk per thread. */
    private Memory buffer = new Memory(1);
    private final Memory tag = new Memory(AesGcm.TAG);

    OpenSslGcm() {
        if (UNAVAILABLE.isPresent()) {
            throw new IllegalStateException(UNAVAILABLE.get());
        }
        ctx = EVP_CIPHER_CTX_new();
        if (ctx == null) {
            throw new OutOfMemoryError("EVP_CIPHER_CTX_new failed");
        }
        Pointer owned = ctx;
        CLEANER.register(this, () -> EVP_CIPHER_CTX_free(owned));
    }

    /** Why libcrypto cannot be used here, or empty when it can. */
    static Optional<String> unavailable() {
        return UNAVAILABLE;
    }

    private static Optional<String> register() {
        for (String name : new String[] {"libcrypto.so.3", "crypto"}) {
            try {
                Native.register(OpenSslGcm.class, NativeLibrary.getInstance(name));
                return Optional.empty();
            } catch (UnsatisfiedLinkError e) {
                // try the next name
            }
        }
        return Optional.of("libcrypto (OpenSSL 3) was not found; install libssl3");
    }

    int encrypt(byte[] key, byte[] nonce, byte[] aad, byte[] src, int offset, int length, byte[] dst, int dstOffset) {
        start(key, nonce, 1, aad, src, offset, length);
        int n = update(length);
        check(EVP_CipherFinal_ex(ctx, buffer.share(n), outLength) == 1, "EVP_CipherFinal_ex");
        n += outLength[0];
        check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AesGcm.TAG, tag) == 1, "GCM_GET_TAG");
        buffer.read(0, dst, dstOffset, n);
        tag.read(0, dst, dstOffset + n, AesGcm.TAG);
        return n + AesGcm.TAG;
    }

    /** Returns the plaintext length, or -1 when the tag does not match (nothing written to dst then). */
    int decrypt(byte[] key, byte[] nonce, byte[] aad, byte[] src, int offset, int length, byte[] dst, int dstOffset) {
        int body = length - AesGcm.TAG;
        start(key, nonce, 0, aad, src, offset, body);
        int n = update(body);
        tag.write(0, src, offset + body, AesGcm.TAG);
        check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AesGcm.TAG, tag) == 1, "GCM_SET_TAG");
        if (EVP_CipherFinal_ex(ctx, buffer.share(n), outLength) != 1) {
            return -1;
        }
        n += outLength[0];
        buffer.read(0, dst, dstOffset, n);
        return n;
    }

    private void start(byte[] key, byte[] nonce, int encrypt, byte[] aad, byte[] src, int offset, int length) {
        if (key.length != 32 || nonce.length != AesGcm.NONCE) {
            throw new IllegalArgumentException("AES-256-GCM needs a 32-byte key and a 12-byte nonce");
        }
        check(EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), null, key, nonce, encrypt) == 1, "EVP_CipherInit_ex");
        if (aad.length > 0) {
            check(EVP_CipherUpdate(ctx, null, outLength, aad, aad.length) == 1, "EVP_CipherUpdate (aad)");
        }
        buffer = room(buffer, length);
        if (length > 0) {
            buffer.write(0, src, offset, length);
        }
    }

    private int update(int length) {
        if (length == 0) {
            return 0;
        }
        check(EVP_CipherUpdate(ctx, buffer, outLength, buffer, length) == 1, "EVP_CipherUpdate");
        return outLength[0];
    }

    private static Memory room(Memory m, int size) {
        if (m.size() < Math.max(1, size)) {
            m.close();
            return new Memory(size);
        }
        return m;
    }

    private static void check(boolean ok, String call) {
        if (!ok) {
            throw new IllegalStateException("libcrypto " + call + " failed");
        }
    }

    private static native Pointer EVP_CIPHER_CTX_new();

    private static native void EVP_CIPHER_CTX_free(Pointer ctx);

    private static native Pointer EVP_aes_256_gcm();

    private static native int EVP_CipherInit_ex(Pointer ctx, Pointer cipher, Pointer engine, byte[] key, byte[] iv,
            int encrypt);

    private static native int EVP_CipherUpdate(Pointer ctx, Pointer out, int[] outLength, byte[] in, int inLength);

    private static native int EVP_CipherUpdate(Pointer ctx, Pointer out, int[] outLength, Pointer in, int inLength);

    private static native int EVP_CipherFinal_ex(Pointer ctx, Pointer out, int[] outLength);

    private static native int EVP_CIPHER_CTX_ctrl(Pointer ctx, int type, int arg, Pointer ptr);
}
