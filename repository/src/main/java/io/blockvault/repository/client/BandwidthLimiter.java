package io.blockvault.repository.client;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Caps the upload rate across all threads of one backup: each upload reserves its bytes on a
 * shared timeline and waits until its slot. Bursts up to one second of budget pass at once.
 */
public final class BandwidthLimiter {

    private final double bytesPerNano;
    private final long burstNanos = TimeUnit.SECONDS.toNanos(1);
    private long nextFreeNanos;

    /** {@code bytesPerSecond <= 0} means unlimited. */
    public BandwidthLimiter(long bytesPerSecond) {
        this.bytesPerNano = bytesPerSecond <= 0 ? 0 : bytesPerSecond / 1e9;
        this.nextFreeNanos = System.nanoTime();
    }

    public static BandwidthLimiter unlimited() {
        return new BandwidthLimiter(0);
    }

    public boolean limited() {
        return bytesPerNano > 0;
    }

    /** Blocks until {@code bytes} may be sent. */
    public void acquire(long bytes) throws IOException {
        if (!limited()) {
            return;
        }
        long waitNanos;
        synchronized (this) {
            long now = System.nanoTime();
            nextFreeNanos = Math.max(nextFreeNanos, now) + (long) (bytes / bytesPerNano);
            waitNanos = nextFreeNanos - now - burstNanos;
        }
        if (waitNanos > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the bandwidth limit", e);
            }
        }
    }
}
