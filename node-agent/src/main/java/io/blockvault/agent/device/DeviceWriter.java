package io.blockvault.agent.device;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.nio.file.ExtendedOpenOption;
import io.blockvault.agent.linux.ErrnoException;
import io.blockvault.agent.linux.Ioctl;
import io.blockvault.agent.linux.LibC;
import io.blockvault.agent.linux.NativeFd;
import io.blockvault.repository.client.ChunkSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes a restore to a block device or a file, from several threads: large aligned writes with
 * O_DIRECT where the target supports it (else through the page cache, with a note); zero ranges
 * with BLKZEROOUT on a block device (falling back to writing zeroes when the device refuses), and
 * not at all on a fresh sparse file. {@link #finish} flushes to stable storage.
 */
public final class DeviceWriter implements ChunkSink, AutoCloseable {

    private static final NativeLong BLKZEROOUT = Ioctl.io((char) 0x12, 127);
    private static final int ZERO_BLOCK = 1 << 20;

    private final Path path;
    private final FileChannel buffered;
    private final Optional<FileChannel> direct;
    private final Optional<NativeFd> blockDevice;
    private final boolean sparseFresh;
    private final List<String> notes = new ArrayList<>();
    private final AtomicBoolean zeroOutWorks = new AtomicBoolean(true);
    private final ThreadLocal<ByteBuffer> alignedBuffers = new ThreadLocal<>();

    private DeviceWriter(Path path, FileChannel buffered, Optional<FileChannel> direct, Optional<NativeFd> blockDevice,
            boolean sparseFresh) {
        this.path = path;
        this.buffered = buffered;
        this.direct = direct;
        this.blockDevice = blockDevice;
        this.sparseFresh = sparseFresh;
    }

    /**
     * Opens a block device for writing, or a file: a file that does not exist is created with
     * {@code sizeBytes} as a sparse file (its zero chunks are then skipped).
     */
    public static DeviceWriter open(Path path, long sizeBytes, boolean preferDirect) throws IOException {
        boolean exists = java.nio.file.Files.exists(path);
        boolean block = exists && BlockDevices.isBlockDevice(path);
        FileChannel buffered = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        List<String> notes = new ArrayList<>();
        Optional<NativeFd> fd = Optional.empty();
        try {
            if (!block) {
                if (!exists || buffered.size() < sizeBytes) {
                    buffered.truncate(sizeBytes);
                    if (buffered.size() < sizeBytes) {
                        buffered.write(ByteBuffer.wrap(new byte[1]), sizeBytes - 1);
                    }
                }
            } else {
                fd = Optional.of(NativeFd.open(path.toString(), LibC.O_RDWR));
            }
            Optional<FileChannel> direct = Optional.empty();
            if (preferDirect) {
                try {
                    direct = Optional.of(FileChannel.open(path, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT));
                } catch (IOException | UnsupportedOperationException e) {
                    notes.add("O_DIRECT is not supported for " + path + " (" + e.getMessage()
                            + "); writing through the page cache");
                }
            }
            DeviceWriter w = new DeviceWriter(path, buffered, direct, fd, !exists);
            w.notes.addAll(notes);
            return w;
        } catch (IOException | RuntimeException e) {
            buffered.close();
            if (fd.isPresent()) {
                fd.get().close();
            }
            throw e;
        }
    }

    public boolean direct() {
        return direct.isPresent();
    }

    /** A fresh sparse file reads as zeroes already: zero chunks need no writing. */
    public boolean targetIsZeroed() {
        return sparseFresh;
    }

    public synchronized List<String> notes() {
        return List.copyOf(notes);
    }

    private synchronized void note(String note) {
        notes.add(note);
    }

    @Override
    public void write(long offset, byte[] data, int length) throws IOException {
        if (direct.isPresent() && offset % DeviceReader.ALIGNMENT == 0 && length % DeviceReader.ALIGNMENT == 0) {
            ByteBuffer b = alignedBuffers.get();
            if (b == null || b.capacity() < length) {
                b = ByteBuffer.allocateDirect(length + DeviceReader.ALIGNMENT).alignedSlice(DeviceReader.ALIGNMENT);
                alignedBuffers.set(b);
            }
            b.clear();
            b.put(data, 0, length).flip();
            writeFully(direct.get(), b, offset);
            return;
        }
        writeFully(buffered, ByteBuffer.wrap(data, 0, length), offset);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long offset) throws IOException {
        long start = offset - b.position();
        while (b.hasRemaining()) {
            ch.write(b, start + b.position());
        }
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        if (sparseFresh) {
            return;
        }
        if (blockDevice.isPresent() && zeroOutWorks.get()) {
            try (Memory range = new Memory(16)) {
                range.setLong(0, offset);
                range.setLong(8, length);
                blockDevice.get().ioctl("BLKZEROOUT", BLKZEROOUT, range);
                return;
            } catch (ErrnoException e) {
                if (zeroOutWorks.compareAndSet(true, false)) {
                    note("BLKZEROOUT failed on " + path + " (" + e.getMessage() + "); writing zeroes instead");
                }
            }
        }
        byte[] zeros = new byte[(int) Math.min(length, ZERO_BLOCK)];
        for (long done = 0; done < length; done += zeros.length) {
            write(offset + done, zeros, (int) Math.min(zeros.length, length - done));
        }
    }

    @Override
    public void finish() throws IOException {
        if (direct.isPresent()) {
            direct.get().force(true);
        }
        buffered.force(true);
    }

    @Override
    public void close() throws IOException {
        try {
            buffered.close();
            if (direct.isPresent()) {
                direct.get().close();
            }
        } finally {
            if (blockDevice.isPresent()) {
                blockDevice.get().close();
            }
        }
    }
}
