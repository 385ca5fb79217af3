package io.blockvault.repository;

import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.EncryptionKey;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Seeded device images and keys for tests. */
public final class TestData {

    public static final int CHUNK = 64 << 10;

    private TestData() {
    }

    public static ChunkCodec codec(boolean encrypted) {
        byte[] idKey = new byte[32];
        new Random(100).nextBytes(idKey);
        byte[] enc = new byte[32];
        new Random(101).nextBytes(enc);
        return new ChunkCodec(new ChunkKeys(idKey, encrypted ? Optional.of(new EncryptionKey(1, enc)) : Optional.empty()));
    }

    /** A device image: chunk i is zero when i % 4 == 3, text-like when even, random otherwise. */
    public static Path image(Path file, int chunks, int chunkSize, long seed, int tailShort) throws IOException {
        Random r = new Random(seed);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < chunks; i++) {
                int len = i == chunks - 1 ? chunkSize - tailShort : chunkSize;
                byte[] b = new byte[len];
                if (i % 4 == 3) {
                    // zero
                } else if (i % 2 == 0) {
                    for (int k = 0; k < len; k++) {
                        b[k] = (byte) ('a' + r.nextInt(6));
                    }
                } else {
                    r.nextBytes(b);
                }
                ch.write(ByteBuffer.wrap(b), (long) i * chunkSize);
            }
        }
        return file;
    }

    /** Overwrites chunk {@code i} of an image with fresh random bytes. */
    public static void change(Path file, int i, int chunkSize, long seed) throws IOException {
        byte[] b = new byte[chunkSize];
        new Random(seed).nextBytes(b);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b), (long) i * chunkSize);
        }
    }

    public static RestorePointIndex backup(Repository repo, ChunkCodec codec, String node, String pointId, Path image,
            Optional<RestorePointIndex> parent, Optional<java.util.BitSet> changed) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            BackupRequest req = new BackupRequest(node, pointId, new DeviceIdentity("/dev/disk/by-id/test-" + node,
                    ch.size()), CHUNK, new ChangeId("gen", 1), parent, changed);
            return new BackupWriter(repo, codec, pool, 4).backup(req, ch);
        } finally {
            pool.shutdownNow();
        }
    }
}
