package io.blockvault.agent.blksnap;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.blockvault.agent.linux.ErrnoException;
import io.blockvault.agent.linux.LibC;
import io.blockvault.agent.linux.NativeFd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The bdevfilter misc device: attaches the blksnap filter to block devices and talks to it. */
public final class BdevFilter implements AutoCloseable {

    public static final Path DEVICE = Path.of("/dev/bdevfilter");

    private final NativeFd fd;

    private BdevFilter(NativeFd fd) {
        this.fd = fd;
    }

    public static BdevFilter open() throws IOException {
        if (!Files.exists(DEVICE)) {
            throw new IOException(DEVICE + " does not exist: the bdevfilter module is not loaded");
        }
        return new BdevFilter(NativeFd.open(DEVICE.toString(), LibC.O_RDWR));
    }

    /** Starts tracking (and filtering) a device; {@code false} when it was attached already. */
    public boolean attach(String device) throws IOException {
        try (Memory path = cString(device); Memory arg = filterName(path)) {
            fd.ioctl("BDEVFILTER_ATTACH " + device, Uapi.BDEVFILTER_ATTACH, arg);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == ErrnoException.EALREADY) {
                return false;
            }
            throw e;
        }
    }

    public void detach(String device) throws IOException {
        try (Memory path = cString(device); Memory arg = filterName(path)) {
            fd.ioctl("BDEVFILTER_DETACH " + device, Uapi.BDEVFILTER_DETACH, arg);
        }
    }

    public CbtInfo cbtInfo(String device) throws IOException {
        try (Memory out = new Memory(Uapi.CBTINFO_SIZE)) {
            out.clear();
            control(device, Uapi.CTL_CBTINFO, out, "CBTINFO");
            return new CbtInfo(out.getLong(0), out.getInt(8), out.getInt(12), out.getByteArray(16, 16),
                    Byte.toUnsignedInt(out.getByte(32)));
        }
    }

    /** Copies the frozen CBT map (one byte per block) of the last take. */
    public byte[] cbtMap(String device, int blockCount) throws IOException {
        byte[] map = new byte[blockCount];
        int step = 1 << 20;
        try (Memory buffer = new Memory(Math.max(1, Math.min(step, blockCount)));
                Memory arg = new Memory(Uapi.CBTMAP_SIZE)) {
            for (int offset = 0; offset < blockCount; offset += step) {
                int length = Math.min(step, blockCount - offset);
                arg.setInt(0, offset);
                arg.setInt(4, length);
                arg.setLong(8, Pointer.nativeValue(buffer));
                control(device, Uapi.CTL_CBTMAP, arg, "CBTMAP");
                buffer.read(0, map, offset, length);
            }
        }
        return map;
    }

    /** Marks sector ranges ({@code offset, count} pairs) changed, as after writing to an image. */
    public void markDirty(String device, long[][] sectorRanges) throws IOException {
        if (sectorRanges.length == 0) {
            return;
        }
        try (Memory ranges = new Memory((long) sectorRanges.length * Uapi.SECTOR_RANGE_SIZE);
                Memory arg = new Memory(Uapi.CBTDIRTY_SIZE)) {
            for (int i = 0; i < sectorRanges.length; i++) {
                ranges.setLong((long) i * Uapi.SECTOR_RANGE_SIZE, sectorRanges[i][0]);
                ranges.setLong((long) i * Uapi.SECTOR_RANGE_SIZE + 8, sectorRanges[i][1]);
            }
            arg.clear();
            arg.setInt(0, sectorRanges.length);
            arg.setLong(8, Pointer.nativeValue(ranges));
            control(device, Uapi.CTL_CBTDIRTY, arg, "CBTDIRTY");
        }
    }

    public void addToSnapshot(String device, SnapshotId snapshot) throws IOException {
        try (Memory arg = new Memory(Uapi.UUID_SIZE)) {
            arg.write(0, snapshot.bytes(), 0, Uapi.UUID_SIZE);
            control(device, Uapi.CTL_SNAPSHOTADD, arg, "SNAPSHOTADD");
        }
    }

    /** The image disk of a taken snapshot, and the snapshot's error (0, or a negative errno). */
    public SnapshotInfo snapshotInfo(String device) throws IOException {
        try (Memory out = new Memory(Uapi.SNAPSHOTINFO_SIZE)) {
            out.clear();
            control(device, Uapi.CTL_SNAPSHOTINFO, out, "SNAPSHOTINFO");
            String image = cStringAt(out, 4, Uapi.IMAGE_NAME_SIZE);
            return new SnapshotInfo(out.getInt(0), image.isEmpty() ? null : Path.of("/dev", image));
        }
    }

    /** What SNAPSHOTINFO tells about one device of a snapshot. */
    public record SnapshotInfo(int errorCode, Path image) {
    }

    private void control(String device, int cmd, Memory opt, String name) throws IOException {
        try (Memory path = cString(device); Memory arg = new Memory(Uapi.BDEVFILTER_CTL_SIZE)) {
            arg.clear();
            arg.setLong(0, Pointer.nativeValue(path));
            writeName(arg);
            arg.setInt(40, cmd);
            arg.setInt(44, (int) opt.size());
            arg.setLong(48, Pointer.nativeValue(opt));
            fd.ioctl("BDEVFILTER_CTL " + name + " " + device, Uapi.BDEVFILTER_CTL, arg);
        }
    }

    private static Memory filterName(Memory path) {
        Memory arg = new Memory(Uapi.BDEVFILTER_NAME_SIZE);
        arg.clear();
        arg.setLong(0, Pointer.nativeValue(path));
        writeName(arg);
        return arg;
    }

    private static void writeName(Memory arg) {
        byte[] name = Uapi.FILTER_NAME.getBytes(StandardCharsets.US_ASCII);
        arg.write(8, name, 0, name.length);
    }

    static Memory cString(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        Memory m = new Memory(bytes.length + 1L);
        m.write(0, bytes, 0, bytes.length);
        m.setByte(bytes.length, (byte) 0);
        return m;
    }

    static String cStringAt(Memory m, long offset, int max) {
        byte[] raw = m.getByteArray(offset, max);
        int end = 0;
        while (end < raw.length && raw[end] != 0) {
            end++;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        fd.close();
    }
}
