package io.blockvault.repository.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IndexCodecTest {

    static RestorePointIndex sample(int chunks) {
        Random r = new Random(chunks);
        List<ChunkId> ids = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            byte[] b = new byte[32];
            if (i % 5 != 0) {
                r.nextBytes(b);
            }
            ids.add(ChunkId.of(b));
        }
        return new RestorePointIndex("p-1", "node-a", new DeviceIdentity("/dev/disk/by-id/virtio-x", chunks * 4096L - 100),
                4096, new ChangeId("gen-1", 17), Optional.of("p-0"), 1000, 2000, 0, new PointStats(1, 2, 3, 4, 5), ids);
    }

    @Test
    void roundTrips() throws Exception {
        RestorePointIndex idx = sample(1000);
        byte[] bytes = IndexCodec.toBytes(idx);
        assertThat(IndexCodec.read(new ByteArrayInputStream(bytes))).isEqualTo(idx);
        assertThat(idx.chunkLength(999)).isEqualTo(4096 - 100);
    }

    @Test
    void damageAndTruncationAreDetected() {
        byte[] bytes = IndexCodec.toBytes(sample(300));
        Random r = new Random(3);
        for (int k = 0; k < 100; k++) {
            byte[] d = bytes.clone();
            int pos = r.nextInt(d.length);
            d[pos] ^= (byte) (1 << r.nextInt(8));
            assertThatThrownBy(() -> IndexCodec.read(new ByteArrayInputStream(d))).as("flip at %d", pos)
                    .isInstanceOf(FormatException.class);
        }
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 1);
        assertThatThrownBy(() -> IndexCodec.read(new ByteArrayInputStream(cut))).isInstanceOf(FormatException.class);
    }

    @Test
    void chunkCountMustMatchTheDevice() {
        RestorePointIndex idx = sample(10);
        assertThatThrownBy(() -> new RestorePointIndex("p", "n", idx.device(), 4096, ChangeId.NONE, Optional.empty(), 0,
                0, 0, PointStats.EMPTY, idx.chunks().subList(0, 9))).hasMessageContaining("has 10 chunks");
        assertThatThrownBy(() -> Names.requireNode("../etc")).hasMessageContaining("not a valid node name");
        assertThatThrownBy(() -> Names.requirePoint("../x")).hasMessageContaining("not a valid restore point id");
    }
}
