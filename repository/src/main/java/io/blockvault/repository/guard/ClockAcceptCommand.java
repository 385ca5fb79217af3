package io.blockvault.repository.guard;

import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.GuardStatus;
import io.blockvault.repository.store.RepositoryLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code clock-accept}: root on the repository host ends a frozen trusted clock. It leaves a file
 * in the root-only {@code guard/} directory, which neither the transport nor the Kubernetes API can
 * write, and waits for the guard to apply it at its next cycle.
 */
@Command(name = "clock-accept", mixinStandardHelpOptions = true,
        description = "As root on the repository host: end the guard's frozen clock, keeping its trusted time or "
                + "moving it up to the system clock.")
public final class ClockAcceptCommand implements Callable<Integer> {

    @Option(names = "--repository", required = true, description = "Repository root (the guard's --repository).")
    Path repository;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @Option(names = "--" + TrustedClock.KEEP, description = "The trusted clock is right: resume without "
                + "counting the jump (locks stay as long as they are).")
        boolean keep;

        @Option(names = "--" + TrustedClock.SYSTEM, description = "The system clock is right (checked against an "
                + "outside reference): move trusted time up to it. Locks that end before it are released.")
        boolean system;
    }

    @Option(names = "--wait-seconds", defaultValue = "60", description = "How long to wait for the guard to apply "
            + "it (default ${DEFAULT-VALUE}).")
    long waitSeconds;

    @Override
    public Integer call() throws Exception {
        if (new Linux().effectiveUid() != 0) {
            System.err.println("error: clock-accept must run as root on the repository host");
            return 1;
        }
        RepositoryLayout layout = new RepositoryLayout(repository);
        Path state = layout.guardState();
        if (!Files.isDirectory(state, LinkOption.NOFOLLOW_LINKS)
                || (Integer) Files.getAttribute(state, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
            System.err.println("error: " + state + " is not the guard's root-owned directory; is --repository the "
                    + "guard's repository root?");
            return 1;
        }
        Path accept = state.resolve("clock-accept");
        Path tmp = state.resolve("clock-accept.tmp");
        Files.writeString(tmp, (choice.keep ? TrustedClock.KEEP : TrustedClock.SYSTEM) + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, accept, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        while (Files.exists(accept) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        if (Files.exists(accept)) {
            System.err.println("the guard has not applied " + accept + " within " + waitSeconds + " s; it will at its "
                    + "next cycle (is the guard running?)");
            return 1;
        }
        // the guard publishes its status at the end of the cycle whose tick applied the file
        Optional<GuardStatus> st = GuardStatus.read(layout.guardStatus());
        for (int i = 0; i < 100 && st.map(GuardStatus::frozen).orElse(true); i++) {
            Thread.sleep(100);
            st = GuardStatus.read(layout.guardStatus());
        }
        System.out.println("accepted: " + st.map(s -> "trusted time " + java.time.Instant.ofEpochMilli(
                s.trustedNowMillis()) + (s.frozen() ? ", still frozen: " + s.frozenReason() : ", not frozen"))
                .orElse("(no guard status yet)"));
        return 0;
    }
}
