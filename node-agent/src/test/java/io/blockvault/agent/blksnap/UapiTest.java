package io.blockvault.agent.blksnap;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import org.junit.jupiter.api.Test;

/** The request numbers are the ones blksnap-uapi.md lists for x86_64. */
class UapiTest {

    @Test
    void filterRequestNumbers() {
        assertThat(Uapi.BDEVFILTER_ATTACH.longValue()).isEqualTo(0xC028468CL);
        assertThat(Uapi.BDEVFILTER_DETACH.longValue()).isEqualTo(0xC028468DL);
        assertThat(Uapi.BDEVFILTER_CTL.longValue()).isEqualTo(0xC038468EL);
    }

    @Test
    void snapshotRequestNumbers() {
        assertThat(Uapi.VERSION.longValue()).isEqualTo(0x80085600L);
        assertThat(Uapi.SNAPSHOT_CREATE.longValue()).isEqualTo(0xC0205601L);
        assertThat(Uapi.SNAPSHOT_DESTROY.longValue()).isEqualTo(0x40105602L);
        assertThat(Uapi.SNAPSHOT_TAKE.longValue()).isEqualTo(0x40105603L);
        assertThat(Uapi.SNAPSHOT_COLLECT.longValue()).isEqualTo(0x80105604L);
        assertThat(Uapi.SNAPSHOT_WAIT_EVENT.longValue()).isEqualTo(0x90005605L);
    }

    @Test
    void eventsAreDecodedFromTheirOffsets() {
        SnapshotId id = new SnapshotId(new byte[16]);
        try (Memory event = new Memory(Uapi.SNAPSHOT_EVENT_SIZE)) {
            event.clear();
            event.setInt(20, Uapi.EVENT_CORRUPTED);
            event.setInt(32, 7);
            event.setInt(36, 3);
            event.setInt(40, -28);
            assertThat(SnapshotControl.decodeEvent(id, event)).isEqualTo(new SnapshotEvent.Corrupted(id, 7, 3, -28));

            event.setInt(20, Uapi.EVENT_NO_SPACE);
            event.setLong(32, 123_456L);
            assertThat(SnapshotControl.decodeEvent(id, event)).isEqualTo(new SnapshotEvent.NoSpace(id, 123_456L));
        }
    }
}
