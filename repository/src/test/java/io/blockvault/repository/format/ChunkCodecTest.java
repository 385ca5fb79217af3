package io.blockvault.repository.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkCodecTest {

    private static final byte[] ID_KEY = new byte[32];
    private static final byte[] OTHER_ID_KEY = new byte[32];

    static {
        new Random(1).nextBytes(ID_KEY);
        new Random(2).nextBytes(OTHER_ID_KEY);
    }

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return k;
    }

    private static byte[] data(boolean compressible, int size, long seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        if (compressible) {
            for (int i = 0; i < size; i++) {
                b[i] = (byte) ("blockvault ".charAt(i % 11) + (r.nextInt(50) == 0 ? 1 : 0));
            }
        } else {
            r.nextBytes(b);
        }
        return b;
    }

    @Test
    void roundTripsPlainAndEncryptedChunks() throws Exception {
        for (boolean encrypted : new boolean[] {false, true}) {
            ChunkCodec codec = new ChunkCodec(new ChunkKeys(ID_KEY,
                    encrypted ? Optional.of(new EncryptionKey(7, key(3))) : Optional.empty()));
            for (boolean compressible : new boolean[] {false, true}) {
                byte[] plain = data(compressible, 1 << 20, 42);
                EncodedChunk e = codec.encode(plain, 0, plain.length);
                ChunkHeader h = ChunkHeader.verifyStored(e.id(), e.stored(), e.stored().length);
                assertThat(h.encrypted()).isEqualTo(encrypted);
                assertThat(h.compressed()).isEqualTo(compressible);
                if (compressible) {
                    assertThat(e.stored().length).isLessThan(plain.length / 2);
                }
                assertThat(codec.decode(e.id(), e.stored(), e.stored().length)).isEqualTo(plain);
                assertThat(e.id()).isEqualTo(codec.idOf(plain, 0, plain.length));
            }
        }
    }

    /**
     * Each thread reuses its MAC, cipher, zstd contexts and buffers: chunks of growing and shrinking
     * sizes, at an offset, on several threads at once, must each come back exactly, and two
     * encodings of one chunk must not share a nonce.
     */
    @Test
    void reusedPerThreadStateNeverLeaksOneChunkIntoAnother() throws Exception {
        ChunkCodec codec = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.of(new EncryptionKey(7, key(3)))));
        int[] sizes = {4 << 20, 1, 4096, 1 << 20, (4 << 20) - 1, 513};
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            java.util.List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 3; t++) {
                long seed = t;
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 3; round++) {
                        for (int size : sizes) {
                            byte[] framed = data(round % 2 == 0, size + 100, seed * 31 + size + round);
                            ChunkId id = codec.idOf(framed, 100, size);
                            EncodedChunk e = codec.encode(framed, 100, size, id);
                            byte[] plain = java.util.Arrays.copyOfRange(framed, 100, 100 + size);
                            assertThat(codec.decode(id, e.stored(), e.stored().length)).isEqualTo(plain);
                            EncodedChunk again = codec.encode(plain, 0, size);
                            assertThat(again.id()).isEqualTo(id);
                            assertThat(java.util.Arrays.copyOfRange(again.stored(), ChunkHeader.SIZE,
                                    ChunkHeader.SIZE + 12)).isNotEqualTo(java.util.Arrays.copyOfRange(e.stored(),
                                            ChunkHeader.SIZE, ChunkHeader.SIZE + 12));
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void idDependsOnTheIdKeySoTheServerCannotConfirmGuesses() {
        byte[] plain = data(false, 4096, 5);
        ChunkId a = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.empty())).idOf(plain, 0, plain.length);
        ChunkId b = new ChunkCodec(new ChunkKeys(OTHER_ID_KEY, Optional.empty())).idOf(plain, 0, plain.length);
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void everyFlippedByteIsDetected() throws Exception {
        ChunkCodec codec = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.of(new EncryptionKey(1, key(9)))));
        byte[] plain = data(true, 64 << 10, 7);
        EncodedChunk e = codec.encode(plain, 0, plain.length);
        Random r = new Random(11);
        for (int k = 0; k < 200; k++) {
            byte[] damaged = e.stored().clone();
            int pos = k < 88 ? k : r.nextInt(damaged.length);
            damaged[pos] ^= (byte) (1 << r.nextInt(8));
            assertThatThrownBy(() -> codec.decode(e.id(), damaged, damaged.length))
                    .as("flip at %d", pos).isInstanceOf(FormatException.class);
        }
    }

    @Test
    void wrongKeyAndWrongIdAreRefused() throws Exception {
        byte[] plain = data(false, 8192, 3);
        ChunkCodec codec = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.of(new EncryptionKey(1, key(9)))));
        EncodedChunk e = codec.encode(plain, 0, plain.length);
        ChunkCodec otherKey = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.of(new EncryptionKey(1, key(10)))));
        assertThatThrownBy(() -> otherKey.decode(e.id(), e.stored(), e.stored().length))
                .isInstanceOf(FormatException.class).hasMessageContaining("authentication");
        ChunkCodec noKey = new ChunkCodec(new ChunkKeys(ID_KEY, Optional.empty()));
        assertThatThrownBy(() -> noKey.decode(e.id(), e.stored(), e.stored().length))
                .isInstanceOf(FormatException.class).hasMessageContaining("key id 1");
        EncodedChunk other = codec.encode(data(false, 8192, 4), 0, 8192);
        assertThatThrownBy(() -> codec.decode(other.id(), e.stored(), e.stored().length))
                .isInstanceOf(FormatException.class);
    }

    @Test
    void zeroDetection() {
        byte[] b = new byte[4099];
        assertThat(ChunkCodec.isAllZero(b, 0, b.length)).isTrue();
        b[4098] = 1;
        assertThat(ChunkCodec.isAllZero(b, 0, b.length)).isFalse();
        assertThat(ChunkCodec.isAllZero(b, 0, 4098)).isTrue();
    }
}
