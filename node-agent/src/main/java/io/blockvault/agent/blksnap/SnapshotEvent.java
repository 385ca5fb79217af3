package io.blockvault.agent.blksnap;

/** An event of a snapshot: the difference storage overflowed or failed. */
public sealed interface SnapshotEvent {

    SnapshotId snapshot();

    /** The snapshot is unusable: image reads fail; writes to the original device went on. */
    record Corrupted(SnapshotId snapshot, int deviceMajor, int deviceMinor, int errorCode) implements SnapshotEvent {
    }

    /** The difference storage reached its limit while growing. */
    record NoSpace(SnapshotId snapshot, long requestedSectors) implements SnapshotEvent {
    }

    /** An event code this agent does not know. */
    record Unknown(SnapshotId snapshot, int code) implements SnapshotEvent {
    }
}
