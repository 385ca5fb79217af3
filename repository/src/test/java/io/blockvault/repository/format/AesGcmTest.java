package io.blockvault.repository.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** libcrypto and the JDK's provider must be interchangeable: what one encrypts the other decrypts. */
class AesGcmTest {

    private final Random random = new Random(7);
    private final byte[] key = bytes(32);
    private final byte[] aad = bytes(44);

    @BeforeEach
    void needsLibcrypto() {
        Assumptions.assumeTrue(OpenSslGcm.unavailable().isEmpty(), "SKIPPED: " + OpenSslGcm.unavailable().orElse(""));
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    @Test
    void libcryptoIsUsedWhereItIsInstalled() {
        assertThat(AesGcm.implementation()).isEqualTo("libcrypto");
    }

    @Test
    void eitherImplementationDecryptsWhatTheOtherEncrypted() throws Exception {
        AesGcm openssl = new AesGcm(true);
        AesGcm jdk = new AesGcm(false);
        for (int size : new int[] {0, 1, 15, 16, 17, 4096, 1 << 20, (4 << 20) + 3}) {
            byte[] plain = bytes(size);
            byte[] nonce = bytes(AesGcm.NONCE);
            byte[] a = new byte[size + AesGcm.TAG + 5];
            byte[] b = new byte[size + AesGcm.TAG + 5];
            assertThat(openssl.encrypt(key, nonce, aad, plain, 0, size, a, 5)).isEqualTo(size + AesGcm.TAG);
            assertThat(jdk.encrypt(key, nonce, aad, plain, 0, size, b, 5)).isEqualTo(size + AesGcm.TAG);
            assertThat(a).as("same ciphertext and tag for %d bytes", size).isEqualTo(b);

            byte[] framed = new byte[3 + AesGcm.NONCE];
            System.arraycopy(nonce, 0, framed, 3, AesGcm.NONCE);
            for (AesGcm decrypter : new AesGcm[] {openssl, jdk}) {
                byte[] out = new byte[size + 2];
                assertThat(decrypter.decrypt(key, framed, 3, aad, a, 5, size + AesGcm.TAG, out, 2)).isEqualTo(size);
                assertThat(Arrays.copyOfRange(out, 2, 2 + size)).isEqualTo(plain);
            }
        }
    }

    @Test
    void aKnownAnswerFromTheGcmSpecification() throws Exception {
        // The GCM specification's test case 16 (AES-256, 60 bytes of plaintext, 20 bytes of AAD)
        HexFormat hex = HexFormat.of();
        byte[] k = hex.parseHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
        byte[] iv = hex.parseHex("cafebabefacedbaddecaf888");
        byte[] p = hex.parseHex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
                + "49a6b525b16aedf5aa0de657ba637b39");
        byte[] a = hex.parseHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        byte[] out = new byte[p.length + AesGcm.TAG];
        new AesGcm(true).encrypt(k, iv, a, p, 0, p.length, out, 0);
        assertThat(hex.formatHex(out)).isEqualTo("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48"
                + "590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b");
    }

    @Test
    void aChangedByteFailsAuthenticationAndWritesNothing() throws Exception {
        byte[] plain = bytes(100_000);
        byte[] nonce = bytes(AesGcm.NONCE);
        byte[] sealed = new byte[plain.length + AesGcm.TAG];
        new AesGcm(true).encrypt(key, nonce, aad, plain, 0, plain.length, sealed, 0);
        for (int at : new int[] {0, 50_000, plain.length, sealed.length - 1}) {
            byte[] bad = sealed.clone();
            bad[at] ^= 1;
            for (AesGcm decrypter : new AesGcm[] {new AesGcm(true), new AesGcm(false)}) {
                byte[] out = new byte[plain.length];
                assertThatThrownBy(() -> decrypter.decrypt(key, nonce, 0, aad, bad, 0, bad.length, out, 0))
                        .isInstanceOf(AEADBadTagException.class);
                assertThat(out).as("nothing written after a bad tag (byte %d)", at).containsOnly(0);
            }
        }
        byte[] otherAad = aad.clone();
        otherAad[0] ^= 1;
        assertThatThrownBy(() -> new AesGcm(true).decrypt(key, nonce, 0, otherAad, sealed, 0, sealed.length,
                new byte[plain.length], 0)).isInstanceOf(AEADBadTagException.class);
    }
}
