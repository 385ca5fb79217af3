package io.blockvault.repository.guard;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * The guard's own configuration: a root-owned properties file that the transport cannot write, or
 * the same keys as command-line options ({@code lockDays} as {@code --lock-days}; in a pod, where the
 * arguments are as far from the transport as a root-owned file).
 * <pre>
 * repository=/srv/blockvault            repository root (incoming/, store/, guard/ below it)
 * lockDays=30                           immutability period for newly sealed files (never shortens old ones)
 * trustedClockAdvanceSeconds=0          moves the trusted clock forward (only ever increases; for
 *                                       correcting a guard clock that fell behind, and for tests).
 *                                       In the file only: a command line is set through the Kubernetes
 *                                       API in a pod, and must not be able to release locks
 * intervalMillis=5000                   cycle period
 * gcIntervalSeconds=3600                garbage collection period
 * gcGraceSeconds=3600                   an unreferenced chunk must stay unreferenced this long before GC
 * leaseTtlSeconds=86400                 how long a backup's "you have these chunks" lease protects them
 * clockJumpThresholdSeconds=60          wall-clock steps above this are logged and reported
 * rebootCreditMaxSeconds=3600           wall-clock time counted across a reboot (downtime) at most;
 *                                       at most 86400
 * clockMaxStepSeconds=86400             a clock step or disagreement above this freezes the trusted
 *                                       clock (no deletion, no GC) until root accepts the time; at
 *                                       most 86400
 * </pre>
 */
public record GuardConfig(Path repository, int lockDays, long trustedClockAdvanceSeconds, long intervalMillis,
        long gcIntervalSeconds, long gcGraceSeconds, long leaseTtlSeconds, long clockJumpThresholdSeconds,
        long rebootCreditMaxSeconds, long clockMaxStepSeconds) {

    /** The largest step the clock bounds may allow: the seed's hardened repository freezes beyond a day. */
    public static final long MAX_CLOCK_BOUND_SECONDS = 86_400;

    /** The keys, in the order documented above; each is also a command-line option ({@link #option}). */
    public static final List<String> KEYS = List.of("repository", "lockDays", "trustedClockAdvanceSeconds",
            "intervalMillis", "gcIntervalSeconds", "gcGraceSeconds", "leaseTtlSeconds", "clockJumpThresholdSeconds",
            "rebootCreditMaxSeconds", "clockMaxStepSeconds");

    /** Keys the configuration file may set but a command line may not: each could release locks early. */
    public static final List<String> FILE_ONLY_KEYS = List.of("trustedClockAdvanceSeconds");

    public static GuardConfig load(Path file, boolean requireRootOwned) throws IOException {
        if (requireRootOwned) {
            int uid = (Integer) Files.getAttribute(file, "unix:uid");
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (uid != 0 || p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new IOException("guard configuration " + file + " must belong to root and be writable only by "
                        + "root (it is uid " + uid + "); run: chown root:root " + file + " && chmod 0600 " + file);
            }
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            props.load(r);
        }
        return parse(props, file + ": ", key -> key);
    }

    /**
     * The one parser of the guard's settings, for the file and the command line alike. {@code where}
     * prefixes error messages, {@code name} says how a key is spelt there (property or option).
     */
    public static GuardConfig parse(Properties props, String where, Function<String, String> name) throws IOException {
        String repo = props.getProperty("repository");
        if (repo == null || repo.isBlank()) {
            throw new IOException(where + name.apply("repository") + " must be set to the path of the repository root");
        }
        int lockDays = (int) Math.min(Integer.MAX_VALUE, number(props, where, name, "lockDays", 30));
        if (lockDays < 1) {
            throw new IOException(where + name.apply("lockDays") + " must be at least 1, got " + lockDays);
        }
        long jumpThreshold = number(props, where, name, "clockJumpThresholdSeconds", 60);
        long maxStep = bounded(props, where, name, "clockMaxStepSeconds", MAX_CLOCK_BOUND_SECONDS);
        if (maxStep < jumpThreshold) {
            throw new IOException(where + name.apply("clockMaxStepSeconds") + " (" + maxStep + ") must not be below "
                    + name.apply("clockJumpThresholdSeconds") + " (" + jumpThreshold + ")");
        }
        return new GuardConfig(Path.of(repo), lockDays, number(props, where, name, "trustedClockAdvanceSeconds", 0),
                Math.max(100, number(props, where, name, "intervalMillis", 5000)),
                number(props, where, name, "gcIntervalSeconds", 3600), number(props, where, name, "gcGraceSeconds", 3600),
                number(props, where, name, "leaseTtlSeconds", 86400), jumpThreshold,
                bounded(props, where, name, "rebootCreditMaxSeconds", 3600), maxStep);
    }

    /** A clock bound: whoever sets it cannot widen it past a day. */
    private static long bounded(Properties p, String where, Function<String, String> name, String key, long dflt)
            throws IOException {
        long n = number(p, where, name, key, dflt);
        if (n > MAX_CLOCK_BOUND_SECONDS) {
            throw new IOException(where + name.apply(key) + " must be at most " + MAX_CLOCK_BOUND_SECONDS
                    + " (one day), got " + n);
        }
        return n;
    }

    /** The command-line option of a key: {@code lockDays} is {@code --lock-days}. */
    public static String option(String key) {
        return "--" + key.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    private static long number(Properties p, String where, Function<String, String> name, String key, long dflt)
            throws IOException {
        String v = p.getProperty(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) {
                throw new NumberFormatException("negative");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IOException(where + name.apply(key) + " must be a non-negative whole number, got '" + v + "'", e);
        }
    }
}
