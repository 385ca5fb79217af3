package io.blockvault.repository.transport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * At most one log line per reason and interval; the lines a flood would otherwise write are
 * counted and reported with the next line of that reason. Unauthenticated peers choose how often a
 * refusal happens, so without this they would choose how fast the log grows (38 620 lines in 60 s
 * in the attack this was written for).
 */
final class RateLimitedLog {

    private final System.Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        long lastNanos;
        boolean logged;
        long suppressed;
    }

    RateLimitedLog(System.Logger log, long intervalMillis) {
        this(log, intervalMillis, System::nanoTime);
    }

    RateLimitedLog(System.Logger log, long intervalMillis, LongSupplier nanoTime) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.nanoTime = nanoTime;
    }

    /** Logs {@code message} unless a line of {@code reason} was logged within the interval. */
    void log(System.Logger.Level level, String reason, String message) {
        Window w = windows.computeIfAbsent(reason, r -> new Window());
        long suppressed;
        synchronized (w) {
            long now = nanoTime.getAsLong();
            if (w.logged && now - w.lastNanos < intervalNanos) {
                w.suppressed++;
                return;
            }
            suppressed = w.suppressed;
            w.suppressed = 0;
            w.lastNanos = now;
            w.logged = true;
        }
        log.log(level, suppressed == 0 ? message : message + " (" + suppressed + " similar lines suppressed in the last "
                + intervalNanos / 1_000_000_000L + " s)");
    }
}
