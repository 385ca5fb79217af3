package io.blockvault.agent.blksnap;

import com.sun.jna.NativeLong;
import io.blockvault.agent.linux.Ioctl;

/**
 * Request numbers and structure sizes of the blksnap interface (kernel-dkms/include/uapi/linux/,
 * described in blksnap-uapi.md). Layouts are fixed little-endian with explicit padding, so they
 * are written here as byte offsets rather than as JNA structures.
 */
final class Uapi {

    static final int FILTER_NAME_SIZE = 32;
    static final String FILTER_NAME = "blksnap";

    static final int BDEVFILTER_NAME_SIZE = 40;
    static final int BDEVFILTER_CTL_SIZE = 56;
    static final NativeLong BDEVFILTER_ATTACH = Ioctl.iowr('F', 140, BDEVFILTER_NAME_SIZE);
    static final NativeLong BDEVFILTER_DETACH = Ioctl.iowr('F', 141, BDEVFILTER_NAME_SIZE);
    static final NativeLong BDEVFILTER_CTL = Ioctl.iowr('F', 142, BDEVFILTER_CTL_SIZE);

    static final int CTL_CBTINFO = 0;
    static final int CTL_CBTMAP = 1;
    static final int CTL_CBTDIRTY = 2;
    static final int CTL_SNAPSHOTADD = 3;
    static final int CTL_SNAPSHOTINFO = 4;

    static final int CBTINFO_SIZE = 40;
    static final int CBTMAP_SIZE = 16;
    static final int CBTDIRTY_SIZE = 16;
    static final int SECTOR_RANGE_SIZE = 16;
    static final int UUID_SIZE = 16;
    static final int SNAPSHOTINFO_SIZE = 36;
    static final int IMAGE_NAME_SIZE = 32;

    static final int VERSION_SIZE = 8;
    static final int SNAPSHOT_CREATE_SIZE = 32;
    static final int SNAPSHOT_COLLECT_SIZE = 16;
    static final int SNAPSHOT_EVENT_SIZE = 4096;
    static final int SNAPSHOT_EVENT_DATA_OFFSET = 32;

    static final NativeLong VERSION = Ioctl.ior('V', 0, VERSION_SIZE);
    static final NativeLong SNAPSHOT_CREATE = Ioctl.iowr('V', 1, SNAPSHOT_CREATE_SIZE);
    static final NativeLong SNAPSHOT_DESTROY = Ioctl.iow('V', 2, UUID_SIZE);
    static final NativeLong SNAPSHOT_TAKE = Ioctl.iow('V', 3, UUID_SIZE);
    static final NativeLong SNAPSHOT_COLLECT = Ioctl.ior('V', 4, SNAPSHOT_COLLECT_SIZE);
    static final NativeLong SNAPSHOT_WAIT_EVENT = Ioctl.ior('V', 5, SNAPSHOT_EVENT_SIZE);

    static final int EVENT_CORRUPTED = 0;
    static final int EVENT_NO_SPACE = 1;

    /** The interface generation we speak; a different major is refused. */
    static final int VERSION_MAJOR = 2;

    private Uapi() {
    }
}
