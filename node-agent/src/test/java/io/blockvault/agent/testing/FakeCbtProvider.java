package io.blockvault.agent.testing;

import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.agent.snapshot.Snapshot;
import io.blockvault.agent.snapshot.SnapshotOptions;
import io.blockvault.agent.snapshot.SnapshotProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A change tracker kept by the test (the module's semantics: one byte per block, the number of
 * the take in which the block last changed), over the live device: lets the engine's CBT and
 * generation-change paths run on loop devices without the kernel module. The test reports its
 * writes with {@link #mark}.
 */
public final class FakeCbtProvider implements SnapshotProvider {

    public static final int BLOCK = 64 << 10;

    private final long capacity;
    private byte[] generation = new byte[16];
    private byte[] map;
    private int active = 1;
    private final Random random = new Random(3);
    private Supplier<Optional<String>> failure = Optional::empty;

    public FakeCbtProvider(long capacity) {
        this.capacity = capacity;
        this.map = new byte[(int) ((capacity + BLOCK - 1) / BLOCK)];
        random.nextBytes(generation);
    }

    /** Every block starts as changed in the first take (as after attach). */
    public void markAll() {
        java.util.Arrays.fill(map, (byte) active);
    }

    public void mark(long offset, long length) {
        for (long b = offset / BLOCK; b <= (offset + length - 1) / BLOCK; b++) {
            map[(int) b] = (byte) active;
        }
    }

    /** A reboot or module reload: a new generation, a fresh map. */
    public void restartTracking() {
        random.nextBytes(generation);
        map = new byte[map.length];
        active = 1;
        markAll();
    }

    public void failWith(Supplier<Optional<String>> failure) {
        this.failure = failure;
    }

    @Override
    public String name() {
        return "fake-cbt";
    }

    @Override
    public Snapshot take(List<String> devices, SnapshotOptions options) {
        int number = active;
        active++;
        CbtInfo info = new CbtInfo(capacity, BLOCK, map.length, generation, number);
        byte[] frozen = map.clone();
        Supplier<Optional<String>> f = failure;
        return new Snapshot() {
            @Override
            public Path image(String device) {
                return Path.of(device);
            }

            @Override
            public Optional<Tracking> tracking(String device) throws IOException {
                return Optional.of(new Tracking(info, frozen));
            }

            @Override
            public boolean crashConsistent() {
                return true;
            }

            @Override
            public Optional<String> failure() {
                return f.get();
            }

            @Override
            public void close() {
                // nothing held
            }
        };
    }
}
