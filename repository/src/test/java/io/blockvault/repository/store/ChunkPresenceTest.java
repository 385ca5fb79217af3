package io.blockvault.repository.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.repository.format.ChunkId;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkPresenceTest {

    @Test
    void membersAreFoundAndMissesAreExact() {
        Random r = new Random(9);
        List<ChunkId> in = new ArrayList<>();
        ChunkPresence p = new ChunkPresence();
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[32];
            r.nextBytes(b);
            ChunkId id = ChunkId.of(b);
            in.add(id);
            p.add(id);
            p.add(id);
        }
        assertThat(p.size()).isEqualTo(in.size());
        assertThat(in).allMatch(p::mayContain);
        int falsePositives = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[32];
            r.nextBytes(b);
            if (p.mayContain(ChunkId.of(b))) {
                falsePositives++;
            }
        }
        assertThat(falsePositives).isLessThan(5);
        assertThat(p.mayContain(ChunkId.ZERO)).isFalse();
    }
}
