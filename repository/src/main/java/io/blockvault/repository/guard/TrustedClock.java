package io.blockvault.repository.guard;

import io.blockvault.repository.store.DurableFiles;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.function.LongSupplier;

/**
 * The guard's clock, which the system clock cannot move. Trusted time advances only by monotonic
 * time (CLOCK_BOOTTIME) within a boot; across a reboot by the wall-clock gap, but at most
 * {@code rebootCreditMaxSeconds} (downtime beyond that is not counted, so locks only get longer);
 * plus the configured advance, which only ever grows. The base is persisted in a root-only file
 * every cycle. A wall clock that drifts from trusted time by more than the threshold, or steps
 * between two ticks, is logged and reported; it never unlocks anything.
 */
public final class TrustedClock {

    /** What the clock reads from the outside world. */
    public interface Sources {
        long wallMillis();

        long boottimeNanos();

        String bootId();
    }

    private final Path stateFile;
    private final Sources sources;
    private final System.Logger log;
    private long baseTrustedMillis;
    private long baseBoottimeNanos;
    private long appliedAdvanceSeconds;
    private long lastWall;
    private long lastBoottime;
    private String lastWarning = "";
    private long jumps;

    public TrustedClock(Path stateFile, Sources sources, System.Logger log) {
        this.stateFile = stateFile;
        this.sources = sources;
        this.log = log;
    }

    public static Sources systemSources(LongSupplier boottime) {
        return new Sources() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis();
            }

            @Override
            public long boottimeNanos() {
                return boottime.getAsLong();
            }

            @Override
            public String bootId() {
                try {
                    return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
                } catch (IOException e) {
                    return "unknown";
                }
            }
        };
    }

    /** Loads the persisted record (or starts from the wall clock the first time) and saves it. */
    public void start(GuardConfig config) throws IOException {
        long wall = sources.wallMillis();
        long boot = sources.boottimeNanos();
        String bootId = sources.bootId();
        if (Files.exists(stateFile)) {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(stateFile, StandardCharsets.ISO_8859_1)));
            long savedTrusted = Long.parseLong(p.getProperty("trustedMillis"));
            long savedBoot = Long.parseLong(p.getProperty("boottimeNanos"));
            long savedWall = Long.parseLong(p.getProperty("wallMillis"));
            appliedAdvanceSeconds = Long.parseLong(p.getProperty("appliedAdvanceSeconds", "0"));
            if (bootId.equals(p.getProperty("bootId")) && boot >= savedBoot) {
                baseTrustedMillis = savedTrusted + (boot - savedBoot) / 1_000_000;
            } else {
                long gap = Math.max(0, Math.min(wall - savedWall, config.rebootCreditMaxSeconds() * 1000));
                baseTrustedMillis = savedTrusted + gap;
                log.log(System.Logger.Level.INFO, "new boot since the last run: trusted clock advanced by " + gap / 1000
                        + " s of downtime (wall clock says " + (wall - savedWall) / 1000 + " s)");
            }
        } else {
            baseTrustedMillis = wall;
            log.log(System.Logger.Level.INFO, "no trusted-clock record yet: starting from the system clock");
        }
        baseBoottimeNanos = boot;
        lastWall = wall;
        lastBoottime = boot;
        applyAdvance(config);
        long drift = wall - nowMillis();
        if (Math.abs(drift) > config.clockJumpThresholdSeconds() * 1000) {
            warn("system clock differs from the trusted clock by " + drift / 1000 + " s at start; locks follow the "
                    + "trusted clock");
        }
        save();
    }

    private void applyAdvance(GuardConfig config) {
        if (config.trustedClockAdvanceSeconds() > appliedAdvanceSeconds) {
            log.log(System.Logger.Level.WARNING, "trusted clock advanced by configuration: "
                    + (config.trustedClockAdvanceSeconds() - appliedAdvanceSeconds) + " s");
            appliedAdvanceSeconds = config.trustedClockAdvanceSeconds();
        } else if (config.trustedClockAdvanceSeconds() < appliedAdvanceSeconds) {
            log.log(System.Logger.Level.DEBUG, "trustedClockAdvanceSeconds was lowered; the trusted clock never goes back");
        }
    }

    /** Once per cycle: detect wall-clock steps, apply configuration, persist. */
    public void tick(GuardConfig config) throws IOException {
        long wall = sources.wallMillis();
        long boot = sources.boottimeNanos();
        long step = (wall - lastWall) - (boot - lastBoottime) / 1_000_000;
        if (Math.abs(step) > config.clockJumpThresholdSeconds() * 1000) {
            warn("system clock jumped by " + (step / 1000) + " s (wall now " + java.time.Instant.ofEpochMilli(wall)
                    + ", trusted " + java.time.Instant.ofEpochMilli(nowMillis()) + "); locks follow the trusted clock");
        }
        lastWall = wall;
        lastBoottime = boot;
        applyAdvance(config);
        save();
    }

    private void warn(String message) {
        jumps++;
        lastWarning = java.time.Instant.ofEpochMilli(nowMillis()) + " " + message;
        log.log(System.Logger.Level.WARNING, message);
    }

    public long nowMillis() {
        return baseTrustedMillis + (sources.boottimeNanos() - baseBoottimeNanos) / 1_000_000
                + appliedAdvanceSeconds * 1000;
    }

    public String lastWarning() {
        return lastWarning;
    }

    public long jumps() {
        return jumps;
    }

    private void save() throws IOException {
        long boot = sources.boottimeNanos();
        Properties p = new Properties();
        p.setProperty("trustedMillis", Long.toString(baseTrustedMillis + (boot - baseBoottimeNanos) / 1_000_000));
        p.setProperty("boottimeNanos", Long.toString(boot));
        p.setProperty("wallMillis", Long.toString(sources.wallMillis()));
        p.setProperty("bootId", sources.bootId());
        p.setProperty("appliedAdvanceSeconds", Long.toString(appliedAdvanceSeconds));
        StringWriter w = new StringWriter();
        p.store(w, "blockvault guard trusted clock; do not edit");
        byte[] bytes = w.toString().getBytes(StandardCharsets.ISO_8859_1);
        Path tmp = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        Files.move(tmp, stateFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        DurableFiles.fsyncDirectory(stateFile.getParent());
    }
}
