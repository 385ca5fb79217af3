package io.blockvault.repository.guard;

import io.blockvault.repository.store.DurableFiles;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;
import java.util.function.LongSupplier;

/**
 * The guard's clock, which no clock source can move forward faster than the slowest of them, and
 * none by more than a bound in one step.
 *
 * <p>Within a boot, trusted time advances by the lesser of two readings of the boot clock: the
 * process's CLOCK_BOOTTIME and the kernel's own /proc/uptime, which a shim preloaded into the guard
 * (libfaketime) cannot change. Across a reboot it advances by the wall-clock gap, but at most
 * {@code rebootCreditMaxSeconds} and at most as long as the previous boot had lasted, so rebooting
 * again and again gains no more than the time those boots took. Plus the configured advance, which
 * only ever grows and is read from the root-owned configuration file only.
 *
 * <p>When a step of any source exceeds {@code clockMaxStepSeconds}, or the sources disagree by more
 * than that (the wall clock with trusted time, the two boot clocks with each other), the step is not
 * counted and the clock is <em>frozen</em>: the guard keeps sealing but deletes and collects
 * nothing, persistently, across restarts, until root on the repository host writes an acceptance
 * file ({@code guard/clock-accept}, see {@link ClockAcceptCommand}). Smaller steps above
 * {@code clockJumpThresholdSeconds} are logged and published as a warning. The record is persisted
 * in a root-only file every cycle.
 */
public final class TrustedClock {

    /** The acceptance file's word for "the trusted clock is right: resume without the jump". */
    public static final String KEEP = "keep-trusted-clock";
    /** The acceptance file's word for "the system clock is right: move trusted time up to it". */
    public static final String SYSTEM = "accept-system-clock";

    /** What the clock reads from the outside world. */
    public interface Sources {
        long wallMillis();

        /** CLOCK_BOOTTIME as this process reads it. */
        long boottimeNanos();

        /** The boot clock as the kernel reports it in /proc/uptime; negative when unreadable. */
        long kernelUptimeNanos();

        String bootId();
    }

    /** Why and since when (trusted time) the clock is frozen. */
    public record Freeze(long sinceMillis, String reason) {
    }

    private final Path stateFile;
    private final Path acceptFile;
    private final Sources sources;
    private final System.Logger log;
    /** Trusted time, without the configured advance, at the last observation. */
    private long trustedNanos;
    private long lastWall;
    private long lastBoot;
    private long lastUptime;
    /** Boot-clock readings at the last rebase: trusted time follows min(boot, uptime) since then. */
    private long baseBoot;
    private long baseUptime;
    private long baseTrustedNanos;
    /** wall - trusted that was accepted (0 unless an administrator kept a differing trusted clock). */
    private long acceptedWallOffsetMillis;
    private long appliedAdvanceSeconds;
    private Optional<Freeze> frozen = Optional.empty();
    private String lastWarning = "";
    private long jumps;

    public TrustedClock(Path stateFile, Sources sources, System.Logger log) {
        this.stateFile = stateFile;
        this.acceptFile = stateFile.resolveSibling("clock-accept");
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
            public long kernelUptimeNanos() {
                try {
                    String first = Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0];
                    return new java.math.BigDecimal(first).movePointRight(9).longValueExact();
                } catch (IOException | RuntimeException e) {
                    return -1;
                }
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
        long uptime = uptimeOr(boot);
        String bootId = sources.bootId();
        if (Files.exists(stateFile)) {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(stateFile, StandardCharsets.ISO_8859_1)));
            long savedTrusted = Long.parseLong(p.getProperty("trustedMillis")) * 1_000_000;
            long savedBoot = Long.parseLong(p.getProperty("boottimeNanos"));
            long savedUptime = Long.parseLong(p.getProperty("uptimeNanos", Long.toString(savedBoot)));
            long savedWall = Long.parseLong(p.getProperty("wallMillis"));
            appliedAdvanceSeconds = Long.parseLong(p.getProperty("appliedAdvanceSeconds", "0"));
            acceptedWallOffsetMillis = Long.parseLong(p.getProperty("acceptedWallOffsetMillis", "0"));
            if (p.getProperty("frozenSinceMillis") != null) {
                frozen = Optional.of(new Freeze(Long.parseLong(p.getProperty("frozenSinceMillis")),
                        p.getProperty("frozenReason", "")));
            }
            trustedNanos = savedTrusted; // a freeze while crediting dates from here
            trustedNanos += bootId.equals(p.getProperty("bootId"))
                    ? sameBootCredit(config, boot - savedBoot, uptime - savedUptime)
                    : rebootCredit(config, wall - savedWall, Math.min(savedBoot, savedUptime));
        } else {
            trustedNanos = wall * 1_000_000;
            log.log(System.Logger.Level.INFO, "no trusted-clock record yet: starting from the system clock");
        }
        lastWall = wall;
        rebase(boot, uptime);
        applyAdvance(config);
        checkWallOffset(config, wall, "at start");
        frozen.ifPresent(f -> log.log(System.Logger.Level.WARNING, "the trusted clock is frozen since "
                + Instant.ofEpochMilli(f.sinceMillis()) + ": " + f.reason() + "; " + howToAccept()));
        save();
    }

    /** A restart in the same boot: both boot clocks say how long the guard was down. */
    private long sameBootCredit(GuardConfig config, long byBoot, long byUptime) {
        long bound = config.clockMaxStepSeconds() * 1_000_000_000L;
        if (byBoot < 0 || byUptime < 0) {
            freeze("the boot clock went back across a restart in the same boot (CLOCK_BOOTTIME by " + byBoot
                    / 1_000_000_000L + " s, /proc/uptime by " + byUptime / 1_000_000_000L + " s)");
            return 0;
        }
        long credit = Math.min(byBoot, byUptime);
        if (Math.abs(byBoot - byUptime) > bound) {
            freeze("across a restart CLOCK_BOOTTIME advanced " + byBoot / 1_000_000_000L + " s but /proc/uptime "
                    + byUptime / 1_000_000_000L + " s");
        }
        if (credit > bound) {
            freeze("the guard was down " + credit / 1_000_000_000L + " s within one boot, more than "
                    + "clockMaxStepSeconds (" + config.clockMaxStepSeconds() + ")");
            return 0;
        }
        return credit;
    }

    /** A new boot: the wall-clock gap, capped by the configuration and by the previous boot's length. */
    private long rebootCredit(GuardConfig config, long wallGapMillis, long previousBootNanos) {
        long cap = Math.min(config.rebootCreditMaxSeconds() * 1_000_000_000L, Math.max(0, previousBootNanos));
        // Compared in milliseconds: a wall clock set centuries ahead must not overflow the product.
        long credit = Math.max(0, Math.min(wallGapMillis, cap / 1_000_000)) * 1_000_000;
        log.log(System.Logger.Level.INFO, "new boot since the last run: trusted clock advanced by "
                + credit / 1_000_000_000L + " s of downtime (wall clock says " + wallGapMillis / 1000 + " s; at most "
                + cap / 1_000_000_000L + " s counted: rebootCreditMaxSeconds, and the previous boot's length)");
        return credit;
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

    /** Once per cycle: advance by the boot clocks, check every source, apply an acceptance, persist. */
    public void tick(GuardConfig config) throws IOException {
        long wall = sources.wallMillis();
        long boot = sources.boottimeNanos();
        long uptime = uptimeOr(boot);
        long before = trustedNanos;
        long bound = config.clockMaxStepSeconds() * 1_000_000_000L;
        long byBoot = boot - lastBoot;
        long byUptime = uptime - lastUptime;
        long next = baseTrustedNanos + Math.min(boot - baseBoot, uptime - baseUptime);
        if (byBoot < 0 || byUptime < 0) {
            freeze("the boot clock went back (CLOCK_BOOTTIME by " + byBoot / 1_000_000_000L + " s, /proc/uptime by "
                    + byUptime / 1_000_000_000L + " s)");
            rebase(boot, uptime);
        } else if (next - before > bound) {
            freeze("the boot clock stepped " + (next - before) / 1_000_000_000L + " s in one cycle, more than "
                    + "clockMaxStepSeconds (" + config.clockMaxStepSeconds() + ")");
            rebase(boot, uptime);
        } else {
            trustedNanos = Math.max(before, next);
            lastBoot = boot;
            lastUptime = uptime;
            long divergence = (boot - baseBoot) - (uptime - baseUptime);
            if (Math.abs(divergence) > bound) {
                freeze("CLOCK_BOOTTIME and /proc/uptime disagree by " + divergence / 1_000_000_000L + " s");
                rebase(boot, uptime);
            }
        }
        long step = (wall - lastWall) - (trustedNanos - before) / 1_000_000;
        if (Math.abs(step) > config.clockJumpThresholdSeconds() * 1000) {
            warn("system clock jumped by " + (step / 1000) + " s (wall now " + Instant.ofEpochMilli(wall) + ", trusted "
                    + Instant.ofEpochMilli(nowMillis()) + "); locks follow the trusted clock");
        }
        lastWall = wall;
        applyAdvance(config);
        checkWallOffset(config, wall, "now");
        applyAcceptance(wall);
        save();
    }

    /** Trusted time follows the boot clocks from these readings on. */
    private void rebase(long boot, long uptime) {
        baseBoot = boot;
        baseUptime = uptime;
        lastBoot = boot;
        lastUptime = uptime;
        baseTrustedNanos = trustedNanos;
    }

    private long uptimeOr(long boot) {
        long uptime = sources.kernelUptimeNanos();
        return uptime < 0 ? boot : uptime;
    }

    private void checkWallOffset(GuardConfig config, long wall, String when) {
        long drift = wall - trustedNanos / 1_000_000 - acceptedWallOffsetMillis;
        if (Math.abs(drift) > config.clockMaxStepSeconds() * 1000) {
            freeze("the system clock is " + drift / 1000 + " s off the trusted clock " + when + ", more than "
                    + "clockMaxStepSeconds (" + config.clockMaxStepSeconds() + ")");
        } else if (when.equals("at start") && Math.abs(drift) > config.clockJumpThresholdSeconds() * 1000) {
            warn("system clock differs from the trusted clock by " + drift / 1000 + " s at start; locks follow the "
                    + "trusted clock");
        }
    }

    /** Freezes the clock; once frozen, further disagreements change nothing and are not logged again. */
    private void freeze(String reason) {
        if (frozen.isPresent()) {
            return;
        }
        warn(reason);
        frozen = Optional.of(new Freeze(nowMillis(), reason));
        log.log(System.Logger.Level.ERROR, "trusted clock frozen: " + reason + ". Until an administrator accepts "
                + "the time, the guard seals new points but deletes and collects nothing; " + howToAccept());
    }

    private String howToAccept() {
        return "as root on the repository host run 'blockvault-repository clock-accept --repository "
                + stateFile.getParent().getParent() + " --" + KEEP + "' (or --" + SYSTEM + " once the system clock "
                + "is checked against a reference)";
    }

    /** Reads and removes {@code guard/clock-accept} if root put one there, and applies it. */
    private void applyAcceptance(long wall) throws IOException {
        String word;
        try {
            if (!Files.isRegularFile(acceptFile, LinkOption.NOFOLLOW_LINKS)
                    || (Integer) Files.getAttribute(acceptFile, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
                Files.deleteIfExists(acceptFile);
                return;
            }
            word = Files.readString(acceptFile, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return;
        }
        Files.delete(acceptFile);
        if (!word.equals(KEEP) && !word.equals(SYSTEM)) {
            log.log(System.Logger.Level.ERROR, "ignored " + acceptFile + ": it says '" + word + "', not " + KEEP
                    + " or " + SYSTEM);
            return;
        }
        long trustedMillis = trustedNanos / 1_000_000;
        if (word.equals(SYSTEM) && wall > trustedMillis) {
            trustedNanos = wall * 1_000_000;
            acceptedWallOffsetMillis = 0;
        } else {
            acceptedWallOffsetMillis = wall - trustedMillis;
        }
        log.log(System.Logger.Level.WARNING, "clock accepted by the administrator (" + word + "): trusted time is "
                + Instant.ofEpochMilli(nowMillis()) + ", the system clock " + Instant.ofEpochMilli(wall)
                + (frozen.isPresent() ? "; the guard deletes and collects again" : ""));
        frozen = Optional.empty();
        lastWarning = "";
        rebase(sources.boottimeNanos(), uptimeOr(sources.boottimeNanos()));
    }

    private void warn(String message) {
        jumps++;
        lastWarning = Instant.ofEpochMilli(nowMillis()) + " " + message;
        log.log(System.Logger.Level.WARNING, message);
    }

    /** Trusted time as of the last observation (start or tick), with the configured advance. */
    public long nowMillis() {
        return trustedNanos / 1_000_000 + appliedAdvanceSeconds * 1000;
    }

    /** The configured advance so far; the transport discounts it when it checks trusted time's pace. */
    public long appliedAdvanceSeconds() {
        return appliedAdvanceSeconds;
    }

    public Optional<Freeze> frozen() {
        return frozen;
    }

    public String lastWarning() {
        return lastWarning;
    }

    public long jumps() {
        return jumps;
    }

    private void save() throws IOException {
        Properties p = new Properties();
        p.setProperty("trustedMillis", Long.toString(trustedNanos / 1_000_000));
        p.setProperty("boottimeNanos", Long.toString(lastBoot));
        p.setProperty("uptimeNanos", Long.toString(lastUptime));
        p.setProperty("wallMillis", Long.toString(lastWall));
        p.setProperty("bootId", sources.bootId());
        p.setProperty("appliedAdvanceSeconds", Long.toString(appliedAdvanceSeconds));
        p.setProperty("acceptedWallOffsetMillis", Long.toString(acceptedWallOffsetMillis));
        frozen.ifPresent(f -> {
            p.setProperty("frozenSinceMillis", Long.toString(f.sinceMillis()));
            p.setProperty("frozenReason", f.reason());
        });
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
