package io.blockvault.agent.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A loop device over a file; detached (and its file removed) on close. */
public final class LoopDevice implements AutoCloseable {

    private final Path file;
    private final Path device;

    private LoopDevice(Path file, Path device) {
        this.file = file;
        this.device = device;
    }

    public static LoopDevice create(Path file, long sizeBytes) throws IOException, InterruptedException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(sizeBytes);
        }
        String dev = Host.ok(file.getParent(), "losetup", "--find", "--show", file.toString()).trim();
        return new LoopDevice(file, Path.of(dev));
    }

    public Path device() {
        return device;
    }

    public Path file() {
        return file;
    }

    /** Writes through the device and flushes, so a reader of the device sees it. */
    public void write(long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
            ch.force(true);
        }
    }

    public byte[] readAll() throws IOException {
        return Files.readAllBytes(file);
    }

    /** Reads the device itself (not the backing file). */
    public byte[] readDevice() throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) ch.size());
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // keep reading
            }
            return b.array();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            Host.run(file.getParent(), java.util.List.of("losetup", "-d", device.toString()));
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
