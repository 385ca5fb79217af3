package io.blockvault.agent.linux;

import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Freezes and thaws the filesystem mounted from a block device (FIFREEZE / FITHAW). */
public final class FilesystemFreeze {

    private static final NativeLong FIFREEZE = Ioctl.iowr('X', 119, Integer.BYTES);
    private static final NativeLong FITHAW = Ioctl.iowr('X', 120, Integer.BYTES);
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private FilesystemFreeze() {
    }

    /**
     * Freezes and at once thaws the filesystem on {@code device}, if one is mounted: the freeze
     * writes its journal and dirty data to the device, so a read that starts now sees them.
     */
    public static void flush(Path device) throws IOException {
        Optional<Path> mountPoint = mountPoint(device);
        if (mountPoint.isEmpty()) {
            return;
        }
        try (NativeFd fd = NativeFd.open(mountPoint.get().toString(), LibC.O_RDONLY)) {
            fd.ioctl("FIFREEZE " + mountPoint.get(), FIFREEZE, null);
            fd.ioctl("FITHAW " + mountPoint.get(), FITHAW, null);
        }
    }

    /** Where the block device is mounted, if it is. */
    public static Optional<Path> mountPoint(Path device) throws IOException {
        String majorMinor = majorMinor(device);
        for (String line : Files.readAllLines(MOUNTINFO)) {
            List<String> fields = List.of(line.split(" "));
            if (fields.size() > 4 && fields.get(2).equals(majorMinor)) {
                return Optional.of(Path.of(unescape(fields.get(4))));
            }
        }
        return Optional.empty();
    }

    /** "major:minor" of a block device node, as /proc/self/mountinfo writes it. */
    public static String majorMinor(Path device) throws IOException {
        long rdev = ((Number) Files.getAttribute(device, "unix:rdev")).longValue();
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        return major + ":" + minor;
    }

    private static String unescape(String mountinfoPath) {
        return mountinfoPath.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                .replace("\\134", "\\");
    }
}
