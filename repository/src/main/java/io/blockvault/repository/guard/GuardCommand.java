package io.blockvault.repository.guard;

import io.blockvault.repository.linux.Capabilities;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.RepositoryLayout;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code guard}: runs the immutability guard. */
@Command(name = "guard", mixinStandardHelpOptions = true,
        description = "Run the immutability guard (root, only CAP_LINUX_IMMUTABLE and CAP_DAC_OVERRIDE; no network).")
public final class GuardCommand implements Callable<Integer> {

    /**
     * What the guard needs: LINUX_IMMUTABLE to lock and unlock the files it seals (it owns them, so it
     * needs no FOWNER), and DAC_OVERRIDE because the transport's incoming area belongs to the
     * transport's user (0700 on a host, 0755 in a pod): as root without it the guard would be an
     * ordinary "other" there and could not search those directories nor remove the originals after
     * sealing, nor set its xattr on a clone it already made read-only. DAC_OVERRIDE covers reading and
     * searching as well, so DAC_READ_SEARCH would add nothing.
     */
    static final long ALLOWED = Capabilities.mask(Capabilities.CAP_LINUX_IMMUTABLE, Capabilities.CAP_DAC_OVERRIDE);

    @Option(names = "--config", description = "The guard's root-owned configuration file (see GuardConfig), re-read "
            + "every cycle. Or give the same settings as the options below.")
    Path configFile;

    @Option(names = "--repository", description = "Repository root (incoming/, store/, guard/ below it).")
    String repository;

    @Option(names = "--lock-days", description = "Immutability period of newly sealed files (default 30; lowering it "
            + "never shortens existing locks).")
    String lockDays;

    @Option(names = "--interval-millis", description = "Cycle period (default 5000).")
    String intervalMillis;

    @Option(names = "--gc-interval-seconds", description = "Garbage collection period (default 3600).")
    String gcIntervalSeconds;

    @Option(names = "--gc-grace-seconds", description = "How long a chunk stays unreferenced before GC (default 3600).")
    String gcGraceSeconds;

    @Option(names = "--lease-ttl-seconds", description = "How long a backup's lease protects chunks (default 86400).")
    String leaseTtlSeconds;

    @Option(names = "--clock-jump-threshold-seconds", description = "Wall-clock steps above this are reported "
            + "(default 60).")
    String clockJumpThresholdSeconds;

    @Option(names = "--reboot-credit-max-seconds", description = "Wall-clock time counted across a reboot at most "
            + "(default 3600, at most 86400).")
    String rebootCreditMaxSeconds;

    @Option(names = "--clock-max-step-seconds", description = "A clock step or disagreement above this freezes the "
            + "trusted clock: no deletion and no GC until root accepts the time with clock-accept (default and "
            + "maximum 86400).")
    String clockMaxStepSeconds;

    @Option(names = "--allow-extra-capabilities", description = "Development only: run even with capabilities "
            + "beyond linux_immutable and dac_override.")
    boolean allowExtraCapabilities;

    @Option(names = "--once", description = "Run one cycle and exit.")
    boolean once;

    @Option(names = "--probe-network", description = "After confinement, try to open a socket from a new Java thread, "
            + "print the outcome, and exit (0 when refused).")
    boolean probeNetwork;

    @Override
    public Integer call() throws Exception {
        System.Logger log = System.getLogger("blockvault.guard");
        // a wrong command line fails at once with the option to fix; the file is read once privileged checks passed
        Optional<GuardConfig> fromOptions = fromOptions();
        Linux linux = new Linux();
        if (linux.effectiveUid() != 0) {
            System.err.println("error: the guard must run as root (uid 0) with CAP_LINUX_IMMUTABLE; it is uid "
                    + linux.effectiveUid());
            return 1;
        }
        Capabilities caps = Capabilities.ofThisProcess();
        if (!caps.has(Capabilities.CAP_LINUX_IMMUTABLE)) {
            System.err.println("error: the guard lacks CAP_LINUX_IMMUTABLE, so it cannot lock files; add it (in a pod: "
                    + "securityContext.capabilities.add: [LINUX_IMMUTABLE, DAC_OVERRIDE])");
            return 1;
        }
        if (!caps.has(Capabilities.CAP_DAC_OVERRIDE)) {
            System.err.println("error: the guard lacks CAP_DAC_OVERRIDE, so it cannot work in the transport's incoming "
                    + "area (it belongs to the transport's user); add it (in a pod: securityContext.capabilities.add: "
                    + "[LINUX_IMMUTABLE, DAC_OVERRIDE])");
            return 1;
        }
        List<String> extra = caps.beyond(ALLOWED);
        if (!extra.isEmpty()) {
            if (!allowExtraCapabilities) {
                System.err.println("error: the guard runs with capabilities it does not need: " + extra + ". Start it "
                        + "with only linux_immutable, dac_override, dac_read_search (and fowner), e.g. setpriv "
                        + "--bounding-set=-all,+linux_immutable,+dac_override,+dac_read_search --inh-caps=-all ..., or "
                        + "pass --allow-extra-capabilities for development.");
                return 1;
            }
            log.log(System.Logger.Level.WARNING, "running with extra capabilities " + extra + " (development mode)");
        }
        linux.denySockets();
        int errno = linux.probeSocket();
        if (errno == 0) {
            System.err.println("error: socket(2) still works after the seccomp filter was installed; refusing to run");
            return 1;
        }
        log.log(System.Logger.Level.INFO, "network denied: socket(2) fails with errno " + errno + " in every thread");
        if (probeNetwork) {
            return probe();
        }
        GuardConfig config = fromOptions.isPresent() ? fromOptions.get() : GuardConfig.load(configFile, true);
        RepositoryLayout layout = new RepositoryLayout(config.repository());
        Files.createDirectories(layout.guardState());
        TrustedClock clock = new TrustedClock(layout.guardState().resolve("clock.properties"),
                TrustedClock.systemSources(linux::boottimeNanos), log);
        clock.start(config);
        Guard guard = new Guard(layout, linux, clock, log);
        guard.prepare();
        log.log(System.Logger.Level.INFO, "guard started on " + layout.root() + ": lock " + config.lockDays()
                + " days, cycle " + config.intervalMillis() + " ms");
        while (true) {
            try {
                config = reload(config, log);
                CycleReport r = guard.cycle(config);
                if (r.chunksSealed() + r.pointsSealed() + r.pointsDeleted() + r.deletesRefused() + r.chunksCollected()
                        > 0) {
                    log.log(System.Logger.Level.INFO, "cycle: " + r);
                }
            } catch (IOException | RuntimeException e) {
                log.log(System.Logger.Level.ERROR, "guard cycle failed: " + e.getMessage() + "; retrying next cycle", e);
                if (once) {
                    return 1;
                }
            }
            if (once) {
                return 0;
            }
            Thread.sleep(config.intervalMillis());
        }
    }

    /**
     * The settings given as options, parsed as the file's are; empty when they are in {@code --config}.
     * Options and file do not mix, so what runs is always written in one place. Public so that whoever
     * writes a command line for the guard (the operator's StatefulSet) can check it the same way.
     */
    public Optional<GuardConfig> fromOptions() throws IOException {
        Map<String, String> given = new LinkedHashMap<>();
        // in GuardConfig.KEYS order, without the file-only trustedClockAdvanceSeconds
        String[] values = {repository, lockDays, intervalMillis, gcIntervalSeconds, gcGraceSeconds, leaseTtlSeconds,
            clockJumpThresholdSeconds, rebootCreditMaxSeconds, clockMaxStepSeconds};
        List<String> keys = GuardConfig.KEYS.stream().filter(k -> !GuardConfig.FILE_ONLY_KEYS.contains(k)).toList();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                given.put(keys.get(i), values[i]);
            }
        }
        if (configFile != null) {
            if (!given.isEmpty()) {
                throw new IOException("--config and " + given.keySet().stream().map(GuardConfig::option).toList()
                        + " cannot be combined: put every setting in the file or every setting on the command line");
            }
            return Optional.empty();
        }
        if (given.isEmpty()) {
            throw new IOException("give --config FILE, or --repository DIR (with --lock-days N and the other settings "
                    + "as options)");
        }
        Properties props = new Properties();
        props.putAll(given);
        return Optional.of(GuardConfig.parse(props, "", GuardConfig::option));
    }

    private GuardConfig reload(GuardConfig current, System.Logger log) {
        if (configFile == null) {
            return current; // options cannot change while running
        }
        try {
            GuardConfig next = GuardConfig.load(configFile, true);
            if (!next.repository().equals(current.repository())) {
                log.log(System.Logger.Level.WARNING, "the repository path cannot change while running; restart the guard");
                return current;
            }
            return next;
        } catch (IOException e) {
            log.log(System.Logger.Level.ERROR, "configuration reload failed, keeping the previous one: " + e.getMessage());
            return current;
        }
    }

    private static int probe() throws InterruptedException {
        AtomicReference<String> outcome = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (SocketChannel ch = SocketChannel.open()) {
                outcome.set("OPENED");
            } catch (IOException e) {
                outcome.set("REFUSED " + e.getMessage());
            }
        }, "network-probe");
        t.start();
        t.join();
        System.out.println("network probe from a new thread: " + outcome.get());
        return outcome.get().startsWith("REFUSED") ? 0 : 1;
    }
}
