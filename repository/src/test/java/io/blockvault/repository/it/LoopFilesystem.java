package io.blockvault.repository.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A fresh ext4 or XFS (reflink=1) filesystem on a loop device, mounted under a temp directory. */
public final class LoopFilesystem implements AutoCloseable {

    private final Path image;
    private final String device;
    private final Path mount;
    private final String type;

    private LoopFilesystem(Path image, String device, Path mount, String type) {
        this.image = image;
        this.device = device;
        this.mount = mount;
        this.type = type;
    }

    public static LoopFilesystem create(String type, long sizeBytes) throws IOException, InterruptedException {
        Host.requireRoot();
        Path dir = Files.createTempDirectory("blockvault-it-" + type);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path image = dir.resolve("fs.img");
        Host.ok("truncate", "-s", Long.toString(sizeBytes), image.toString());
        String device = Host.ok("losetup", "--find", "--show", image.toString()).trim();
        try {
            switch (type) {
                case "xfs" -> Host.ok("mkfs.xfs", "-q", "-f", "-m", "reflink=1,crc=1", device);
                case "ext4" -> Host.ok("mkfs.ext4", "-q", "-F", device);
                default -> throw new IllegalArgumentException("unsupported filesystem " + type);
            }
            Path mount = dir.resolve("mnt");
            Files.createDirectory(mount);
            Host.ok("mount", device, mount.toString());
            Files.setPosixFilePermissions(mount, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new LoopFilesystem(image, device, mount, type);
        } catch (IOException | RuntimeException e) {
            Host.run(java.util.List.of("losetup", "-d", device));
            throw e;
        }
    }

    public Path mount() {
        return mount;
    }

    public String type() {
        return type;
    }

    public long usedBytes() throws IOException {
        var store = Files.getFileStore(mount);
        return store.getTotalSpace() - store.getUnallocatedSpace();
    }

    /**
     * The used bytes once they fall below {@code limit}, or the last reading after {@code timeout}.
     * XFS frees an unlinked file's blocks in a background worker, so a sync alone does not show them.
     */
    public long usedBytesOnceBelow(long limit, java.time.Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Host.ok("sync", "-f", mount.toString());
            long used = usedBytes();
            if (used < limit || System.nanoTime() > deadline) {
                return used;
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Host.run(java.util.List.of("chattr", "-R", "-i", mount.toString()));
        if (Host.run(java.util.List.of("umount", mount.toString())).exit() != 0) {
            // a mapping the test made may outlive it until GC: detach lazily, the kernel finishes later
            Host.run(java.util.List.of("umount", "-l", mount.toString()));
        }
        Host.run(java.util.List.of("losetup", "-d", device));
        Files.deleteIfExists(image);
        try {
            Files.deleteIfExists(mount);
            Path jarDir = image.getParent().resolve("jar");
            Files.deleteIfExists(jarDir.resolve("runner.jar"));
            Files.deleteIfExists(jarDir);
            Files.deleteIfExists(image.getParent());
        } catch (IOException e) {
            // still busy after a lazy unmount: leave the empty directory in /tmp
        }
    }
}
