package io.blockvault.agent.blksnap;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.blockvault.agent.linux.ErrnoException;
import io.blockvault.agent.linux.LibC;
import io.blockvault.agent.linux.NativeFd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The blksnap control device. Ours is /dev/blksnap-control; Veeam's modules, which speak the same
 * interface, create /dev/veeamblksnap. Whichever is present is used, since two sets of modules
 * cannot hook the same kernel function at once.
 */
public final class SnapshotControl implements AutoCloseable {

    public static final List<Path> DEVICES = List.of(Path.of("/dev/blksnap-control"), Path.of("/dev/veeamblksnap"));

    private final NativeFd fd;
    private final ModuleVersion version;

    private SnapshotControl(NativeFd fd, ModuleVersion version) {
        this.fd = fd;
        this.version = version;
    }

    /** Opens the first control device present and checks it speaks our interface generation. */
    public static SnapshotControl open() throws IOException {
        Path device = DEVICES.stream().filter(Files::exists).findFirst().orElseThrow(() -> new IOException(
                "no blksnap control device (" + DEVICES + "): the blksnap module is not loaded"));
        NativeFd fd = NativeFd.open(device.toString(), LibC.O_RDWR);
        try {
            ModuleVersion version = readVersion(fd);
            if (version.major() != Uapi.VERSION_MAJOR) {
                throw new IOException(device + " speaks blksnap interface " + version + ", this agent needs major "
                        + Uapi.VERSION_MAJOR + ": load a matching module or upgrade the agent");
            }
            return new SnapshotControl(fd, version);
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    public ModuleVersion version() {
        return version;
    }

    public Path device() {
        return Path.of(fd.path());
    }

    private static ModuleVersion readVersion(NativeFd fd) throws IOException {
        try (Memory out = new Memory(Uapi.VERSION_SIZE)) {
            out.clear();
            fd.ioctl("IOCTL_BLKSNAP_VERSION", Uapi.VERSION, out);
            return new ModuleVersion(Short.toUnsignedInt(out.getShort(0)), Short.toUnsignedInt(out.getShort(2)),
                    Short.toUnsignedInt(out.getShort(4)), Short.toUnsignedInt(out.getShort(6)));
        }
    }

    /**
     * Creates a snapshot whose difference storage is {@code diffStorage} (a directory for an
     * unnamed temporary file, a file, or a block device), growing to at most {@code limitBytes}.
     */
    public SnapshotId create(Path diffStorage, long limitBytes) throws IOException {
        try (Memory name = BdevFilter.cString(diffStorage.toString());
                Memory arg = new Memory(Uapi.SNAPSHOT_CREATE_SIZE)) {
            arg.clear();
            arg.setLong(0, limitBytes / 512);
            arg.setLong(8, Pointer.nativeValue(name));
            fd.ioctl("IOCTL_BLKSNAP_SNAPSHOT_CREATE", Uapi.SNAPSHOT_CREATE, arg);
            return new SnapshotId(arg.getByteArray(16, Uapi.UUID_SIZE));
        }
    }

    public void take(SnapshotId id) throws IOException {
        idCall("IOCTL_BLKSNAP_SNAPSHOT_TAKE", Uapi.SNAPSHOT_TAKE, id);
    }

    public void destroy(SnapshotId id) throws IOException {
        idCall("IOCTL_BLKSNAP_SNAPSHOT_DESTROY", Uapi.SNAPSHOT_DESTROY, id);
    }

    private void idCall(String name, com.sun.jna.NativeLong request, SnapshotId id) throws IOException {
        try (Memory arg = new Memory(Uapi.UUID_SIZE)) {
            arg.write(0, id.bytes(), 0, Uapi.UUID_SIZE);
            fd.ioctl(name + " " + id, request, arg);
        }
    }

    /** Ids of every snapshot the module holds (ours or left over from a crashed agent). */
    public List<SnapshotId> collect() throws IOException {
        try (Memory arg = new Memory(Uapi.SNAPSHOT_COLLECT_SIZE)) {
            while (true) {
                arg.clear();
                fd.ioctl("IOCTL_BLKSNAP_SNAPSHOT_COLLECT", Uapi.SNAPSHOT_COLLECT, arg);
                int count = arg.getInt(0);
                if (count == 0) {
                    return List.of();
                }
                try (Memory ids = new Memory((long) count * Uapi.UUID_SIZE)) {
                    arg.setInt(0, count);
                    arg.setLong(8, Pointer.nativeValue(ids));
                    try {
                        fd.ioctl("IOCTL_BLKSNAP_SNAPSHOT_COLLECT", Uapi.SNAPSHOT_COLLECT, arg);
                    } catch (ErrnoException e) {
                        if (e.errno() == ErrnoException.ENODATA) {
                            continue; // a snapshot appeared between the two calls
                        }
                        throw e;
                    }
                    List<SnapshotId> result = new ArrayList<>();
                    for (int i = 0; i < arg.getInt(0); i++) {
                        result.add(new SnapshotId(ids.getByteArray((long) i * Uapi.UUID_SIZE, Uapi.UUID_SIZE)));
                    }
                    return result;
                }
            }
        }
    }

    /**
     * Waits up to {@code timeoutMillis} for an event of the snapshot; empty on timeout. Blocks
     * the calling thread, so callers run it on a thread of its own.
     */
    public Optional<SnapshotEvent> waitEvent(SnapshotId id, int timeoutMillis) throws IOException {
        try (Memory arg = new Memory(Uapi.SNAPSHOT_EVENT_SIZE)) {
            arg.clear();
            arg.write(0, id.bytes(), 0, Uapi.UUID_SIZE);
            arg.setInt(16, timeoutMillis);
            try {
                fd.ioctl("IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT " + id, Uapi.SNAPSHOT_WAIT_EVENT, arg);
            } catch (ErrnoException e) {
                if (e.errno() == ErrnoException.ENOENT || e.errno() == ErrnoException.EINTR) {
                    return Optional.empty();
                }
                throw e;
            }
            return Optional.of(decodeEvent(id, arg));
        }
    }

    static SnapshotEvent decodeEvent(SnapshotId id, Pointer event) {
        int code = event.getInt(20);
        long data = Uapi.SNAPSHOT_EVENT_DATA_OFFSET;
        return switch (code) {
            case Uapi.EVENT_CORRUPTED -> new SnapshotEvent.Corrupted(id, event.getInt(data), event.getInt(data + 4),
                    event.getInt(data + 8));
            case Uapi.EVENT_NO_SPACE -> new SnapshotEvent.NoSpace(id, event.getLong(data));
            default -> new SnapshotEvent.Unknown(id, code);
        };
    }

    @Override
    public void close() throws IOException {
        fd.close();
    }
}
