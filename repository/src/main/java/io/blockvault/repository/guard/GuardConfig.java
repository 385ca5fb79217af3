package io.blockvault.repository.guard;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Properties;
import java.util.Set;

/**
 * The guard's own configuration: a root-owned properties file that the transport cannot write.
 * <pre>
 * repository=/srv/blockvault            repository root (incoming/, store/, guard/ below it)
 * lockDays=30                           immutability period for newly sealed files (never shortens old ones)
 * trustedClockAdvanceSeconds=0          moves the trusted clock forward (only ever increases; for
 *                                       correcting a guard clock that fell behind, and for tests)
 * intervalMillis=5000                   cycle period
 * gcIntervalSeconds=3600                garbage collection period
 * gcGraceSeconds=3600                   an unreferenced chunk must stay unreferenced this long before GC
 * leaseTtlSeconds=86400                 how long a backup's "you have these chunks" lease protects them
 * clockJumpThresholdSeconds=60          wall-clock steps above this are logged and reported
 * rebootCreditMaxSeconds=3600           wall-clock time counted across a reboot (downtime) at most
 * </pre>
 */
public record GuardConfig(Path repository, int lockDays, long trustedClockAdvanceSeconds, long intervalMillis,
        long gcIntervalSeconds, long gcGraceSeconds, long leaseTtlSeconds, long clockJumpThresholdSeconds, long rebootCreditMaxSeconds) {

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
        String repo = props.getProperty("repository");
        if (repo == null || repo.isBlank()) {
            throw new IOException(file + " must set repository=<path of the repository root>");
        }
        int lockDays = (int) number(props, file, "lockDays", 30);
        if (lockDays < 1) {
            throw new IOException(file + ": lockDays must be at least 1, got " + lockDays);
        }
        return new GuardConfig(Path.of(repo), lockDays, number(props, file, "trustedClockAdvanceSeconds", 0),
                Math.max(100, number(props, file, "intervalMillis", 5000)),
                number(props, file, "gcIntervalSeconds", 3600), number(props, file, "gcGraceSeconds", 3600),
                number(props, file, "leaseTtlSeconds", 86400), number(props, file, "clockJumpThresholdSeconds", 60),
                number(props, file, "rebootCreditMaxSeconds", 3600));
    }

    private static long number(Properties p, Path file, String key, long dflt) throws IOException {
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
            throw new IOException(file + ": " + key + " must be a non-negative whole number, got '" + v + "'", e);
        }
    }
}
