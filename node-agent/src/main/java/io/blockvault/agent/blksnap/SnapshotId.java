package io.blockvault.agent.blksnap;

import java.util.Arrays;
import java.util.HexFormat;

/** The 16-byte id the module gives a snapshot. */
public record SnapshotId(byte[] bytes) {

    public SnapshotId {
        if (bytes.length != Uapi.UUID_SIZE) {
            throw new IllegalArgumentException("a snapshot id has 16 bytes, not " + bytes.length);
        }
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
