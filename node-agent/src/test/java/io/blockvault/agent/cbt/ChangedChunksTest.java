package io.blockvault.agent.cbt;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupMode;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class ChangedChunksTest {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    @Test
    void smallBlocksMarkTheChunkTheyLieIn() {
        // 64 KiB blocks, 4 MiB chunks: 64 blocks per chunk; a 10 MiB device has 3 chunks.
        byte[] map = new byte[160];
        map[0] = 3;      // chunk 0, changed after 2
        map[70] = 2;     // chunk 1, not after 2
        map[150] = 5;    // chunk 2 (the partial last one)
        BitSet changed = ChangedChunks.since(map, 64 * KIB, 10 * MIB, 4 * MIB, 2);
        assertThat(changed.stream().toArray()).containsExactly(0, 2);
    }

    @Test
    void largeBlocksMarkEveryChunkTheyOverlap() {
        // 16 MiB blocks over 4 MiB chunks: block 1 covers chunks 4..7; capacity cuts block 2 short.
        byte[] map = {0, 9, 9};
        BitSet changed = ChangedChunks.since(map, 16 * MIB, 40 * MIB, 4 * MIB, 0);
        assertThat(changed.stream().toArray()).containsExactly(4, 5, 6, 7, 8, 9);
    }

    @Test
    void blocksStraddlingChunksMarkBoth() {
        // 3 MiB blocks: block 1 spans bytes 3..6 MiB, so chunks 0 and 1.
        byte[] map = {0, 1, 0};
        assertThat(ChangedChunks.since(map, 3 * MIB, 9 * MIB, 4 * MIB, 0).stream().toArray()).containsExactly(0, 1);
    }

    @Test
    void mapValuesAreUnsigned() {
        byte[] map = {(byte) 200};
        assertThat(ChangedChunks.since(map, 4 * MIB, 4 * MIB, 4 * MIB, 150).cardinality()).isEqualTo(1);
        assertThat(ChangedChunks.since(map, 4 * MIB, 4 * MIB, 4 * MIB, 200).cardinality()).isZero();
    }

    @Test
    void trackingIsTrustedOnlyWhenUnbroken() {
        byte[] g1 = new byte[16];
        byte[] g2 = new byte[16];
        g2[0] = 1;
        var parent = new BackupModeDecision.Tracking(g1, 4, 100);
        assertThat(BackupModeDecision.decide(parent, new BackupModeDecision.Tracking(g1, 5, 100), false).mode())
                .isEqualTo(BackupMode.Cbt);
        assertThat(BackupModeDecision.decide(parent, new BackupModeDecision.Tracking(g2, 5, 100), false).reason())
                .contains("restarted");
        assertThat(BackupModeDecision.decide(parent, new BackupModeDecision.Tracking(g1, 5, 200), false).mode())
                .isEqualTo(BackupMode.FullScan);
        assertThat(BackupModeDecision.decide(parent, new BackupModeDecision.Tracking(g1, 5, 100), true).mode())
                .isEqualTo(BackupMode.FullScan);
        assertThat(BackupModeDecision.decide(null, new BackupModeDecision.Tracking(g1, 5, 100), false).mode())
                .isEqualTo(BackupMode.FullScan);
        assertThat(BackupModeDecision.decide(parent, null, false).mode()).isEqualTo(BackupMode.NoSnap);
    }
}
