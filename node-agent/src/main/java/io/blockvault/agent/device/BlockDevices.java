package io.blockvault.agent.device;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import io.blockvault.agent.linux.FilesystemFreeze;
import io.blockvault.agent.linux.Ioctl;
import io.blockvault.agent.linux.LibC;
import io.blockvault.agent.linux.NativeFd;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/** Facts about block devices (or image files standing in for them) that backup and restore need. */
public final class BlockDevices {

    private static final NativeLong BLKGETSIZE64 = Ioctl.ior((char) 0x12, 114, Long.BYTES);
    private static final Path BY_ID = Path.of("/dev/disk/by-id");

    private BlockDevices() {
    }

    public static boolean isBlockDevice(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode");
        return (((Integer) mode) & 0170000) == 0060000;
    }

    /** Size in bytes: BLKGETSIZE64 for a block device, the length for a regular file. */
    public static long sizeOf(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException(path + " does not exist");
        }
        if (!isBlockDevice(path)) {
            return Files.size(path);
        }
        try (NativeFd fd = NativeFd.open(path.toString(), LibC.O_RDONLY); Memory out = new Memory(Long.BYTES)) {
            fd.ioctl("BLKGETSIZE64", BLKGETSIZE64, out);
            return out.getLong(0);
        }
    }

    /**
     * A name for the device that survives reboots and renumbering: the /dev/disk/by-id link that
     * points at it when there is one, else the path as given.
     */
    public static String stableId(Path device) throws IOException {
        if (device.startsWith(BY_ID) || !Files.isDirectory(BY_ID)) {
            return device.toString();
        }
        Path real = device.toRealPath();
        try (DirectoryStream<Path> links = Files.newDirectoryStream(BY_ID)) {
            Path best = null;
            for (Path link : links) {
                if (Files.isSymbolicLink(link) && link.toRealPath().equals(real)
                        && (best == null || link.toString().compareTo(best.toString()) < 0)) {
                    best = link;
                }
            }
            return best == null ? device.toString() : best.toString();
        }
    }

    /** Where the device is mounted, when it is (restore refuses to overwrite a mounted device). */
    public static Optional<Path> mountPoint(Path device) throws IOException {
        if (!Files.exists(device, LinkOption.NOFOLLOW_LINKS) && !Files.exists(device)) {
            return Optional.empty();
        }
        return isBlockDevice(device) ? FilesystemFreeze.mountPoint(device) : Optional.empty();
    }
}
