package io.blockvault.agent.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QuickRollbackTest {

    static final int CHUNK = 1 << 20;
    static final int BLOCK = 64 << 10;
    static final long SIZE = 8L * CHUNK;
    static final byte[] GEN = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");

    static RestorePointIndex point(String generation, long changeNumber, String device) {
        return new RestorePointIndex("p1", "node-a", new DeviceIdentity(device, SIZE), CHUNK,
                new ChangeId(generation, changeNumber), Optional.empty(), 0, 1, 0, PointStats.EMPTY,
                Collections.nCopies((int) (SIZE / CHUNK), ChunkId.ZERO));
    }

    static CbtInfo tracker(byte[] gen, int changes) {
        return new CbtInfo(SIZE, BLOCK, (int) (SIZE / BLOCK), gen, changes);
    }

    @Test
    void rewritesOnlyChunksChangedAfterThePoint() {
        byte[] map = new byte[(int) (SIZE / BLOCK)];
        map[0] = 3;                    // chunk 0: changed in take 3, before the point (taken at 3)
        map[16 + 5] = 4;               // chunk 1: changed after
        map[7 * 16 + 15] = 6;          // chunk 7: changed after
        QuickRollback.Plan plan = QuickRollback.plan(point(HexFormat.of().formatHex(GEN), 3, "/dev/disk/by-id/x"),
                "/dev/disk/by-id/x", Optional.of(tracker(GEN, 6)), Optional.of(map));
        assertThat(plan.chunks()).isPresent();
        assertThat(plan.chunks().get().stream().toArray()).containsExactly(1, 7);
        assertThat(plan.reason()).contains("2 of 8");
    }

    @Test
    void fullRestoreWhenAnythingBreaksTheChain() {
        byte[] map = new byte[(int) (SIZE / BLOCK)];
        String gen = HexFormat.of().formatHex(GEN);
        byte[] other = GEN.clone();
        other[0] ^= 1;
        assertThat(QuickRollback.plan(point(gen, 3, "/dev/a"), "/dev/b", Optional.of(tracker(GEN, 6)),
                Optional.of(map)).chunks()).isEmpty();
        assertThat(QuickRollback.plan(point(gen, 3, "/dev/a"), "/dev/a", Optional.empty(), Optional.empty())
                .chunks()).isEmpty();
        assertThat(QuickRollback.plan(point(gen, 3, "/dev/a"), "/dev/a", Optional.of(tracker(other, 6)),
                Optional.of(map)).reason()).contains("restarted");
        assertThat(QuickRollback.plan(point("", -1, "/dev/a"), "/dev/a", Optional.of(tracker(GEN, 6)),
                Optional.of(map)).chunks()).isEmpty();
        assertThat(QuickRollback.plan(point(gen, 7, "/dev/a"), "/dev/a", Optional.of(tracker(GEN, 6)),
                Optional.of(map)).chunks()).isEmpty();
    }
}
