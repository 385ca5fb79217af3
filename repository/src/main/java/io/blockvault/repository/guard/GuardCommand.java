package io.blockvault.repository.guard;

import io.blockvault.repository.linux.Capabilities;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.RepositoryLayout;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code guard}: runs the immutability guard. */
@Command(name = "guard", mixinStandardHelpOptions = true,
        description = "Run the immutability guard (root, only CAP_LINUX_IMMUTABLE and file access; no network).")
public final class GuardCommand implements Callable<Integer> {

    /** What the guard needs: lock flags, read the transport's files, remove them from its directories. */
    static final long ALLOWED = Capabilities.mask(Capabilities.CAP_LINUX_IMMUTABLE, Capabilities.CAP_DAC_OVERRIDE,
            Capabilities.CAP_DAC_READ_SEARCH, Capabilities.CAP_FOWNER);

    @Option(names = "--config", required = true, description = "The guard's root-owned configuration file.")
    Path configFile;

    @Option(names = "--allow-extra-capabilities", description = "Development only: run even with capabilities "
            + "beyond linux_immutable, dac_override, dac_read_search and fowner.")
    boolean allowExtraCapabilities;

    @Option(names = "--once", description = "Run one cycle and exit.")
    boolean once;

    @Option(names = "--probe-network", description = "After confinement, try to open a socket from a new Java thread, "
            + "print the outcome, and exit (0 when refused).")
    boolean probeNetwork;

    @Override
    public Integer call() throws Exception {
        System.Logger log = System.getLogger("blockvault.guard");
        Linux linux = new Linux();
        if (linux.effectiveUid() != 0) {
            System.err.println("error: the guard must run as root (uid 0) with CAP_LINUX_IMMUTABLE; it is uid "
                    + linux.effectiveUid());
            return 1;
        }
        Capabilities caps = Capabilities.ofThisProcess();
        if (!caps.has(Capabilities.CAP_LINUX_IMMUTABLE)) {
            System.err.println("error: the guard lacks CAP_LINUX_IMMUTABLE, so it cannot lock files; add it (in a pod: "
                    + "securityContext.capabilities.add: [LINUX_IMMUTABLE])");
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
        GuardConfig config = GuardConfig.load(configFile, true);
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

    private GuardConfig reload(GuardConfig current, System.Logger log) {
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
