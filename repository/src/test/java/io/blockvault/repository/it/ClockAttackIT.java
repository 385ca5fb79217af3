package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.BackupRequest;
import io.blockvault.repository.client.BackupWriter;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.store.GuardStatus;
import io.blockvault.repository.store.LockAttributes;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.Tls;
import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clock attacks end to end (issues 17 and 20), against the real guard process (the runner jar's
 * {@code guard} command, root with only linux_immutable and dac_override, as in production) and the
 * real transport, on XFS on a loop device with real FS_IMMUTABLE_FL.
 *
 * <p>The host's clock is never touched. The guard alone is moved:
 * <ul>
 * <li>its wall clock by libfaketime (LD_PRELOAD into the guard's JVM only), reading an offset from a
 * file the test rewrites while the guard runs; {@code FAKETIME_DONT_FAKE_MONOTONIC=1} keeps
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME real, as a system-clock change leaves them (without it
 * libfaketime shifts CLOCK_BOOTTIME too, which no clock setting can do). The test proves the guard
 * really saw each wall time: {@code publishedWallMillis} in store/guard-status is the guard JVM's
 * {@code System.currentTimeMillis()};</li>
 * <li>a reboot by a private mount namespace in which a file with a new boot id is bind-mounted over
 * /proc/sys/kernel/random/boot_id, and a time namespace ({@code unshare --time}) whose
 * CLOCK_BOOTTIME and CLOCK_MONOTONIC are set back to a few seconds, as after a fresh boot.</li>
 * </ul>
 * The scenario (issue 20): points locked for one day; the guard restarted under libfaketime ten
 * years ahead with CLOCK_BOOTTIME moved too (the attack that once deleted a locked point), which
 * /proc/uptime gives away; the freeze surviving a restart with honest clocks until root runs the real
 * {@code clock-accept}; the wall clock ten years ahead while the guard runs, a restart in the same
 * boot, a reboot across which the clock jumps ten years ahead (credited: the capped downtime),
 * ten years back and a reboot there (credited: at most the short boot before). Nothing unlocks,
 * nothing is deleted, every jump is reported, backups go on. Once root accepted the time, only the
 * guard's own configured advance moves the trusted clock past the lock; then retention deletes the
 * expired points and GC removes exactly the chunks no point references, never a chunk the
 * still-locked newer point needs (though its own lock expired), nor the chunk a running backup was
 * told exists right before the wall clock jumped two hours ahead (past the lease TTL by the wall).
 */
class ClockAttackIT {

    static final String NODE_TOKEN = "clock-attack-node-token-0123456789";
    static final String OPERATOR_TOKEN = "clock-attack-operator-token-0123456789";
    static final int CHUNK = 256 << 10;
    static final int CHUNKS = 16;
    static final long DAY = 86_400_000L;
    static final long TEN_YEARS = 3650 * DAY;
    /** The guard's defaults, written into its configuration so that the test states what it relies on. */
    static final long JUMP_THRESHOLD_SECONDS = 60;
    static final long REBOOT_CREDIT_SECONDS = 3600;
    /** How far trusted time may be from what the test expects: guard start-up and cycles on a busy machine. */
    static final long SLACK = 300_000;
    /** The guard's warning for a wall-clock step, with the step in seconds. */
    static final Pattern JUMP = Pattern.compile("system clock jumped by (-?\\d+) s");
    /** The guard's line at the start of a new boot, with the seconds it credited. */
    static final Pattern CREDIT = Pattern.compile("new boot since the last run: trusted clock advanced by (\\d+) s "
            + "of downtime");
    static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    Path work;
    Path jar;
    LoopFilesystem fs;
    RepositoryLayout layout;
    Path guardConfig;
    Path fakeTime;
    Processes.Transport transport;
    TestTls tls;
    Path tokens;
    Process guard;
    int launches;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    SSLContext ctx;
    ChunkCodec codec = TestData.codec(true);

    /** What one start of the guard presents to it as its boot. */
    record Boot(String bootId, long boottimeOffsetSeconds, long monotonicOffsetSeconds) {
    }

    @BeforeEach
    void requireMechanisms() throws Exception {
        Host.requireRoot();
        if (!Files.isReadable(LIBFAKETIME)) {
            throw new IllegalStateException(LIBFAKETIME + " is missing: install the Debian package faketime "
                    + "(tools/install-prerequisites does)");
        }
        Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/ns/time")), "SKIPPED: this kernel has no time "
                + "namespaces (/proc/self/ns/time is missing; needs Linux >= 5.6 with CONFIG_TIME_NS), so the guard "
                + "cannot be shown a rebooted CLOCK_BOOTTIME");
        Host.Result timens = Host.run(List.of("unshare", "--time", "--boottime=1", "--", "cat", "/proc/uptime"));
        Assumptions.assumeTrue(timens.exit() == 0, "SKIPPED: 'unshare --time --boottime=1' fails here: "
                + timens.output().trim());
        Path probe = Files.createTempFile("boot-id", "");
        try {
            String id = UUID.randomUUID().toString();
            Files.writeString(probe, id + "\n");
            Host.Result bind = Host.run(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                    "mount --bind \"$0\" " + BOOT_ID + " && cat " + BOOT_ID, probe.toString()));
            Assumptions.assumeTrue(bind.exit() == 0 && bind.output().trim().equals(id), "SKIPPED: a private mount "
                    + "namespace cannot bind a file over " + BOOT_ID + " here: " + bind.output().trim());
        } finally {
            Files.deleteIfExists(probe);
        }
        Host.ensureTransportUser();
        work = Files.createTempDirectory("blockvault-clock-it");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Host.runnerJar(work.resolve("jar"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        stopGuard();
        if (transport != null) {
            transport.kill();
        }
        pool.shutdownNow();
        if (fs != null) {
            fs.close();
        }
        Host.deleteTree(work);
    }

    @Test
    void tenYearJumpsAndRebootsUnlockNothingAndGcKeepsWhatALockedPointNeeds() throws Exception {
        fs = LoopFilesystem.create("xfs", 512L << 20);
        Path root = fs.mount().resolve("repo");
        Processes.prepareRepository(root);
        layout = new RepositoryLayout(root);
        guardConfig = work.resolve("guard.properties");
        writeGuardConfig(0);
        fakeTime = work.resolve("faketime");
        setWallOffset("+0");
        tls = Processes.tls(work.resolve("tls"));
        tokens = work.resolve("tokens");
        Files.writeString(tokens, NODE_TOKEN + " node:node-a\n" + OPERATOR_TOKEN + " operator\n");
        ctx = Tls.client(tls.caCert());
        String realBoot = Files.readString(BOOT_ID).trim();

        // --- points locked for a day, made at the real time
        startGuard(new Boot(realBoot, 0, 0), false);
        startTransport();
        Path image = work.resolve("dev.img");
        TestData.image(image, CHUNKS, CHUNK, 17, 0);
        RestorePointIndex p1 = backup("p1", image);
        byte[] image1 = Files.readAllBytes(image);
        for (int i : new int[] {0, 2, 4}) {
            TestData.change(image, i, CHUNK, 500 + i);
        }
        RestorePointIndex p2 = backup("p2", image);
        byte[] image2 = Files.readAllBytes(image);
        awaitSealed("p1", "p2");
        Map<Path, Long> locks = storeLocks();
        assertThat(locks).hasSize(2 + distinctStored(p1, p2).size());
        long lockP1 = LockAttributes.lockedUntil(layout.storePoint("node-a", "p1")).orElseThrow();
        long lockP2 = LockAttributes.lockedUntil(layout.storePoint("node-a", "p2")).orElseThrow();
        assertThat(lockP1).isBetween(System.currentTimeMillis() + DAY - SLACK, System.currentTimeMillis() + DAY);
        assertAllLocked(locks);

        // --- 0. the attack of issue 20: the guard restarted under libfaketime ten years ahead, its wall
        // clock and CLOCK_BOOTTIME both moved; the kernel's /proc/uptime gives it away
        stopGuard(); // first: the running guard would see the wall clock's jump itself
        setWallOffset("+3650d");
        Path g0 = startGuard(new Boot(realBoot, 0, 0), true);
        GuardStatus shim = awaitCycles(2, GuardStatus::frozen);
        assertThat(shim.publishedWallMillis()).isGreaterThan(System.currentTimeMillis() + TEN_YEARS - DAY);
        // (libfaketime sets CLOCK_BOOTTIME to about the faked date's seconds since 1970, not to an offset)
        assertThat(Files.readString(g0)).containsPattern("trusted clock frozen: across a restart CLOCK_BOOTTIME "
                + "advanced \\d{10} s but /proc/uptime \\d+ s");
        assertTrustedNear(shim, 0);
        assertStatsFrozen("/proc/uptime");
        assertAllLocked(locks);
        assertDeleteRefused("p1", g0);
        // frozen survives a restart with honest clocks, until root accepts on the host
        setWallOffset("+0");
        Path g1 = startGuard(new Boot(realBoot, 0, 0), false);
        awaitCycles(1, GuardStatus::frozen);
        assertThat(Files.readString(g1)).contains("the trusted clock is frozen since");
        assertDeleteRefused("p2", g1);
        acceptKeepingTrustedClock();
        assertTrustedNear(awaitCycles(1, s -> !s.frozen()), 0);

        // --- 1. the wall clock jumps ten years ahead under the running guard
        long mark1 = Files.size(g1);
        setWallOffset("+3650d");
        GuardStatus ahead = awaitCycles(3, s -> s.publishedWallMillis() > System.currentTimeMillis() + TEN_YEARS
                - DAY);
        awaitJumps(g1, mark1, TEN_YEARS);
        assertThat(ahead.frozenReason()).contains("the system clock is 315");
        assertTrustedNear(ahead, 0);
        assertAllLocked(locks);
        assertDeleteRefused("p1", g1);

        // --- 2. the guard restarts in the same boot, the clock still ten years ahead
        Path g2 = startGuard(new Boot(realBoot, 0, 0), false);
        GuardStatus sameBoot = awaitCycles(2, s -> true);
        assertThat(Files.readString(g2)).contains("the trusted clock is frozen since")
                .doesNotContain("new boot since the last run");
        assertThat(sameBoot.frozen()).isTrue();
        assertTrustedNear(sameBoot, 0);
        assertAllLocked(locks);
        assertDeleteRefused("p2", g2);

        // --- 3. a reboot across which the clock jumps ten years ahead: only the capped credit counts,
        // at most rebootCreditMaxSeconds and at most as long as the previous boot lasted
        long mark2 = Files.size(g2);
        setWallOffset("+0");
        awaitCycles(2, s -> Math.abs(s.publishedWallMillis() - System.currentTimeMillis()) < SLACK);
        awaitJumps(g2, mark2, -TEN_YEARS);
        stopGuard();
        long credit1 = rebootCreditSeconds();
        setWallOffset("+3650d");
        Boot reboot1 = freshBoot();
        Path g3 = startGuard(reboot1, false);
        startTransport(); // a reboot restarts the transport too
        GuardStatus rebooted = awaitCycles(2, s -> s.publishedWallMillis() > System.currentTimeMillis() + TEN_YEARS
                - DAY);
        assertThat(Files.readString(g3)).contains("(wall clock says 315");
        assertThat(creditLogged(g3)).as("ten years of downtime by the wall: the bound counts").isEqualTo(credit1);
        assertTrustedNear(rebooted, credit1 * 1000);
        assertGuardSawBoot(reboot1);
        assertAllLocked(locks);
        assertDeleteRefused("p1", g3);

        // --- 4. ten years back, before the points were made; then a reboot there
        long mark3 = Files.size(g3);
        setWallOffset("-3650d");
        GuardStatus past = awaitCycles(2, s -> s.publishedWallMillis() < System.currentTimeMillis() - TEN_YEARS
                + DAY);
        awaitJumps(g3, mark3, -2 * TEN_YEARS);
        assertThat(past.publishedWallMillis()).isLessThan(p1.startedAtMillis() - 9 * 365 * DAY);
        assertTrustedNear(past, credit1 * 1000);
        stopGuard();
        long bound2 = rebootCreditSeconds();
        assertThat(bound2).as("the boot before lasted only this test's steps").isLessThan(600);
        Boot reboot2 = freshBoot();
        Path g4 = startGuard(reboot2, false);
        startTransport();
        GuardStatus pastRebooted = awaitCycles(2, s -> true);
        assertThat(Files.readString(g4)).contains("the trusted clock is frozen since");
        long credit2 = creditLogged(g4);
        assertThat(credit2).isLessThanOrEqualTo(bound2);
        assertTrustedNear(pastRebooted, (credit1 + credit2) * 1000);
        assertGuardSawBoot(reboot2);
        assertAllLocked(locks);
        assertDeleteRefused("p2", g4);
        // backups go on, and the new point is locked by the trusted clock, not by the wall's 2016
        for (int i : new int[] {1, 5}) {
            TestData.change(image, i, CHUNK, 900 + i);
        }
        RestorePointIndex p3 = backup("p3", image);
        byte[] image3 = Files.readAllBytes(image);
        awaitSealed("p3");
        long lockP3 = LockAttributes.lockedUntil(layout.storePoint("node-a", "p3")).orElseThrow();
        GuardStatus afterP3 = awaitCycles(1, s -> true);
        assertThat(lockP3).isBetween(afterP3.trustedNowMillis() + DAY - SLACK, afterP3.trustedNowMillis() + DAY);
        assertAllLocked(locks);
        verifyAndRestore(Map.of("p1", image1, "p2", image2, "p3", image3));

        // --- 5. root accepts the time on the host; only the guard's own configured advance then moves
        // trusted time past the lock of p1 and p2
        setWallOffset("+0");
        awaitCycles(2, s -> Math.abs(s.publishedWallMillis() - System.currentTimeMillis()) < SLACK);
        acceptKeepingTrustedClock();
        long lockOld = Math.max(lockP1, lockP2);
        long advanceSeconds = (lockOld - afterP3.trustedNowMillis()) / 1000 + 600;
        writeGuardConfig(advanceSeconds);
        GuardStatus expired = awaitCycles(1, s -> s.trustedNowMillis() > lockOld);
        assertThat(expired.frozen()).isFalse();
        assertThat(expired.trustedNowMillis()).as("p3 must still be locked for the last step to mean anything")
                .isLessThan(lockP3 - SLACK);
        assertThat(Files.readString(g4)).contains("trusted clock advanced by configuration: " + advanceSeconds + " s");
        Set<ChunkId> keep = distinctStored(p3);
        Set<ChunkId> garbage = distinctStored(p1, p2);
        garbage.removeAll(keep);
        Set<ChunkId> expiredButNeeded = new HashSet<>(keep);
        expiredButNeeded.retainAll(distinctStored(p1, p2));
        assertThat(garbage).as("chunks only the expired points reference").hasSize(3 + 2);
        assertThat(expiredButNeeded).as("chunks whose own lock expired but which p3 references").isNotEmpty();
        // a backup in progress is told that one of them exists (so it will not upload it), then the
        // wall clock jumps two hours ahead, within the bound: its lease is older than its TTL (1 h) by
        // no clock but the wall's
        ChunkId leased = garbage.iterator().next();
        try (TransportClient c = connect(NODE_TOKEN)) {
            assertThat(c.missingChunks("node-a", "s-inprogress", List.of(leased))).isEmpty();
        }
        setWallOffset("+7200");
        awaitCycles(2, s -> s.publishedWallMillis() > System.currentTimeMillis() + 7_000_000);
        garbage.remove(leased);
        try (TransportClient op = connect(OPERATOR_TOKEN)) {
            op.requestDelete(new PointRef("node-a", "p1"));
            op.requestDelete(new PointRef("node-a", "p2"));
            assertThatThrownBy(() -> op.requestDelete(new PointRef("node-a", "p3")))
                    .isInstanceOf(RepositoryException.class).hasMessageContaining("immutable until")
                    .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(RepositoryException.Reason.LOCKED);
        }
        awaitGone(List.of(layout.storePoint("node-a", "p1"), layout.storePoint("node-a", "p2")));
        awaitGone(garbage.stream().map(layout::storeChunk).toList());
        awaitCycles(3, s -> true); // GC had every chance to take more
        assertThat(layout.storeChunk(leased)).as("the chunk a backup in progress was told exists").exists();
        assertThat(Files.readString(g4)).contains("deleted restore point node-a/p1").contains("deleted restore point "
                + "node-a/p2");
        for (ChunkId id : keep) {
            Path chunk = layout.storeChunk(id);
            assertThat(chunk).as("chunk %s of the locked point p3", id).exists();
            assertThat(lsattrImmutable(chunk)).as("lsattr %s", chunk).isTrue();
            if (locks.containsKey(chunk)) {
                assertThat(LockAttributes.lockedUntil(chunk)).as("lock of %s", chunk).contains(locks.get(chunk));
            }
        }
        for (ChunkId id : expiredButNeeded) {
            assertThat(locks.get(layout.storeChunk(id))).as("chunk %s's own lock has expired", id)
                    .isLessThan(expired.trustedNowMillis());
        }
        assertThat(lsattrImmutable(layout.storePoint("node-a", "p3"))).isTrue();
        assertDeleteRefused("p3", g4);
        verifyAndRestore(Map.of("p3", image3));
        for (int i = 1; i <= launches; i++) {
            Path log = work.resolve("guard-" + i + ".log");
            assertThat(Files.readString(log)).as(log.toString()).doesNotContain("cycle failed");
        }
    }

    /** The downtime the guard credited at its start, from its log. */
    private static long creditLogged(Path guardLog) throws IOException {
        Matcher m = CREDIT.matcher(Files.readString(guardLog));
        assertThat(m.find()).as("the guard logs the credit of a new boot: %s", guardLog).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** What the guard may credit for the reboot about to happen: its cap, or the boot it saved last. */
    private long rebootCreditSeconds() throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(layout.guardState().resolve("clock.properties"),
                StandardCharsets.ISO_8859_1)));
        long lastBoot = Math.min(Long.parseLong(p.getProperty("boottimeNanos")),
                Long.parseLong(p.getProperty("uptimeNanos")));
        return Math.min(REBOOT_CREDIT_SECONDS * 1_000_000_000L, lastBoot) / 1_000_000_000L;
    }

    /** Root on the repository host runs the real {@code clock-accept}; the running guard applies it. */
    private void acceptKeepingTrustedClock() throws Exception {
        Host.Result r = Host.run(List.of(Host.java(), "-jar", jar.toString(), "clock-accept", "--repository",
                layout.root().toString(), "--keep-trusted-clock", "--wait-seconds", "60"));
        assertThat(r.exit()).as("clock-accept: %s", r.output()).isZero();
        assertThat(r.output()).contains("not frozen");
        assertThat(guardLog()).contains("clock accepted by the administrator (keep-trusted-clock)");
    }

    /** The operator's STATS shows the frozen clock, which its BackupRepository condition reports. */
    private void assertStatsFrozen(String reason) throws IOException {
        try (TransportClient op = connect(OPERATOR_TOKEN)) {
            assertThat(op.stats().clockFrozen()).hasValueSatisfying(f -> assertThat(f).contains(reason));
        }
    }

    private void startTransport() throws IOException, InterruptedException {
        if (transport != null) {
            transport.kill();
        }
        transport = Processes.startTransport(jar, layout.root(), tls, tokens);
    }

    // ---- the guard, launched as production does, inside namespaces that present the test's clock

    /**
     * Starts the guard (stopping a running one first) under libfaketime, in a private mount namespace
     * that shows {@code boot.bootId()} as the boot id and a time namespace with the given offsets.
     * With {@code fakeBootClock} libfaketime moves CLOCK_BOOTTIME and CLOCK_MONOTONIC by the same
     * offset as the wall clock (the attack of issue 20); /proc/uptime it cannot move.
     */
    private Path startGuard(Boot boot, boolean fakeBootClock) throws IOException, InterruptedException {
        stopGuard();
        launches++;
        Path bootIdFile = work.resolve("boot-id-" + launches);
        Files.writeString(bootIdFile, boot.bootId() + "\n");
        Path log = work.resolve("guard-" + launches + ".log");
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--time",
                "--boottime=" + boot.boottimeOffsetSeconds(), "--monotonic=" + boot.monotonicOffsetSeconds(), "--",
                "sh", "-c", "mount --bind \"$0\" " + BOOT_ID + " && exec \"$@\"", bootIdFile.toString()));
        List<String> asGuard = Host.asGuard(jar, "--config", guardConfig.toString());
        int java = asGuard.indexOf(Host.java());
        cmd.addAll(asGuard.subList(0, java));
        // only the JVM is faked: not unshare, mount or setpriv
        cmd.addAll(List.of("env", "LD_PRELOAD=" + LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE=" + fakeTime,
                "FAKETIME_NO_CACHE=1"));
        if (!fakeBootClock) {
            cmd.add("FAKETIME_DONT_FAKE_MONOTONIC=1");
        }
        cmd.addAll(asGuard.subList(java, asGuard.size()));
        guard = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return log;
    }

    private void stopGuard() throws InterruptedException {
        if (guard != null) {
            guard.destroy(); // SIGTERM, as a pod's stop; the trusted-clock record is saved every cycle anyway
            if (!guard.waitFor(30, TimeUnit.SECONDS)) {
                guard.destroyForcibly();
                guard.waitFor(30, TimeUnit.SECONDS);
            }
            guard = null;
        }
    }

    /** A new boot id, and the clocks set back to about two seconds after boot (unless this host just booted). */
    private static Boot freshBoot() throws IOException {
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split("\\s+")[0]);
        long monotonic = System.nanoTime() / 1_000_000_000L; // the JVM's nanoTime is CLOCK_MONOTONIC
        return new Boot(UUID.randomUUID().toString(), -Math.max(0, (long) uptime - 2), -Math.max(0, monotonic - 2));
    }

    /** The guard's trusted-clock record shows the boot id and the boottime of its namespace. */
    private void assertGuardSawBoot(Boot boot) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(layout.guardState().resolve("clock.properties"),
                StandardCharsets.ISO_8859_1)));
        assertThat(p.getProperty("bootId")).isEqualTo(boot.bootId());
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split("\\s+")[0]);
        long expected = (long) ((uptime + boot.boottimeOffsetSeconds()) * 1000);
        assertThat(Long.parseLong(p.getProperty("boottimeNanos")) / 1_000_000).as("boottime the guard saw")
                .isBetween(expected - SLACK, expected);
    }

    private void setWallOffset(String offset) throws IOException {
        // libfaketime reads this file at every clock call (FAKETIME_NO_CACHE): the running guard follows it
        Path tmp = fakeTime.resolveSibling("faketime.tmp");
        Files.writeString(tmp, offset + "\n");
        Files.move(tmp, fakeTime, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private void writeGuardConfig(long advanceSeconds) throws IOException {
        Path tmp = guardConfig.resolveSibling("guard.properties.tmp");
        Files.writeString(tmp, "repository=" + layout.root() + "\nlockDays=1\ntrustedClockAdvanceSeconds="
                + advanceSeconds + "\nintervalMillis=300\ngcIntervalSeconds=0\ngcGraceSeconds=0\nleaseTtlSeconds=3600\n"
                + "clockJumpThresholdSeconds=" + JUMP_THRESHOLD_SECONDS + "\nrebootCreditMaxSeconds="
                + REBOOT_CREDIT_SECONDS + "\n");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, guardConfig, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Waits until the running guard has published a status that {@code first} accepts, then for
     * {@code more - 1} further cycles (each publishes a new trusted time); returns the last status.
     */
    /**
     * Waits (at most 60 s) until the jumps the guard logged after byte {@code from} of its log add up
     * to {@code expectedMillis} within a day. A sum, not one line: under load faketime's new offset can
     * reach the guard in steps (twenty years back once arrived as two ten-year jumps).
     */
    private static void awaitJumps(Path guardLog, long from, long expectedMillis) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            String logged = Files.readString(guardLog).substring((int) from);
            long sumSeconds = 0;
            for (Matcher m = JUMP.matcher(logged); m.find(); ) {
                sumSeconds += Long.parseLong(m.group(1));
            }
            if (Math.abs(sumSeconds * 1000 - expectedMillis) < DAY) {
                return;
            }
            assertThat(System.currentTimeMillis()).as("the guard's log reports jumps adding up to %d s; since "
                    + "the change it holds: %s", expectedMillis / 1000, logged).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private GuardStatus awaitCycles(int more, Predicate<GuardStatus> first) throws Exception {
        long deadline = System.currentTimeMillis() + 180_000;
        GuardStatus seen = null;
        int cycles = 0;
        Optional<GuardStatus> baseline = GuardStatus.read(layout.guardStatus());
        long last = baseline.map(GuardStatus::trustedNowMillis).orElse(Long.MIN_VALUE);
        while (System.currentTimeMillis() < deadline) {
            assertThat(guard.isAlive()).as("the guard is running; its log: %s", guardLog()).isTrue();
            Optional<GuardStatus> s = GuardStatus.read(layout.guardStatus());
            if (s.isPresent() && s.get().trustedNowMillis() != last) {
                last = s.get().trustedNowMillis();
                if (seen != null || first.test(s.get())) {
                    seen = s.get();
                    if (++cycles >= more) {
                        return seen;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the guard published no status as expected within 180 s; last " + GuardStatus.read(
                layout.guardStatus()) + "; its log: " + guardLog());
    }

    private String guardLog() throws IOException {
        return Files.readString(work.resolve("guard-" + launches + ".log"));
    }

    /** Trusted time is the real time plus {@code creditMillis}, whatever the guard's wall clock says. */
    private static void assertTrustedNear(GuardStatus s, long creditMillis) {
        long expected = System.currentTimeMillis() + creditMillis;
        assertThat(s.trustedNowMillis()).as("trusted time (status %s)", s).isBetween(expected - SLACK, expected
                + 5_000);
    }

    // ---- what the filesystem and the transport show

    private Map<Path, Long> storeLocks() throws IOException {
        Map<Path, Long> locks = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(layout.store())) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                if (p.equals(layout.guardStatus()) || p.startsWith(layout.store().resolve("tmp"))) {
                    continue;
                }
                locks.put(p, LockAttributes.lockedUntil(p).orElseThrow(() -> new AssertionError(p + " has no lock")));
            }
        }
        return locks;
    }

    /** Every file sealed so far is still there, immutable (lsattr), with the lock expiry it got. */
    private void assertAllLocked(Map<Path, Long> locks) throws Exception {
        for (Map.Entry<Path, Long> e : locks.entrySet()) {
            assertThat(e.getKey()).exists();
            assertThat(lsattrImmutable(e.getKey())).as("lsattr %s", e.getKey()).isTrue();
            assertThat(LockAttributes.lockedUntil(e.getKey())).as("lock of %s", e.getKey()).contains(e.getValue());
        }
        assertThat(storeLocks().keySet()).containsAll(locks.keySet());
    }

    /** The transport refuses the operator's delete; a forged request file is refused by the guard itself. */
    private void assertDeleteRefused(String point, Path guardLog) throws Exception {
        PointRef ref = new PointRef("node-a", point);
        try (TransportClient op = connect(OPERATOR_TOKEN)) {
            assertThatThrownBy(() -> op.requestDelete(ref)).isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("immutable until")
                    .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(RepositoryException.Reason.LOCKED);
        }
        String refusal = "deletion of node-a/" + point + " refused: ";
        int before = occurrences(Files.readString(guardLog), refusal);
        Path forged = layout.requests().resolve("forged-" + UUID.randomUUID() + ".req");
        Files.writeString(forged, "node-a\n" + point + "\n");
        long deadline = System.currentTimeMillis() + 60_000;
        while (Files.exists(forged) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(forged).as("the guard read the forged request").doesNotExist();
        awaitCycles(1, s -> true);
        assertThat(layout.storePoint("node-a", point)).as("locked point %s after a forged deletion request", point)
                .exists();
        assertThat(lsattrImmutable(layout.storePoint("node-a", point))).isTrue();
        assertThat(occurrences(Files.readString(guardLog), refusal)).as("refusals of %s in the guard's log", point)
                .isEqualTo(before + 1);
    }

    private static int occurrences(String text, String part) {
        return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
    }

    private static boolean lsattrImmutable(Path file) throws Exception {
        return Host.ok("lsattr", file.toString()).trim().split("\\s+")[0].contains("i");
    }

    private static Set<ChunkId> distinctStored(RestorePointIndex... points) {
        Set<ChunkId> ids = new HashSet<>();
        for (RestorePointIndex p : points) {
            p.chunks().stream().filter(id -> !id.isZero()).forEach(ids::add);
        }
        return ids;
    }

    private void awaitSealed(String... points) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            if (Stream.of(points).allMatch(p -> Files.exists(layout.storePoint("node-a", p)))) {
                try (TransportClient op = connect(OPERATOR_TOKEN)) {
                    List<PointSummary> all = op.listPoints(Optional.of("node-a"));
                    assertThat(all).filteredOn(p -> List.of(points).contains(p.ref().pointId())).hasSize(points.length)
                            .allSatisfy(p -> assertThat(p.lockedUntil()).isPresent());
                }
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the guard did not seal " + List.of(points) + " within 120 s: " + guardLog());
    }

    private static void awaitGone(List<Path> files) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (files.stream().anyMatch(Files::exists) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertThat(files.stream().filter(Files::exists).toList()).as("files that should have been removed").isEmpty();
    }

    private TransportClient connect(String token) throws IOException {
        return TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", transport.port(), ctx, token));
    }

    private RestorePointIndex backup(String point, Path image) throws IOException {
        try (TransportClient c = connect(NODE_TOKEN); FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            BackupRequest req = new BackupRequest("node-a", point, new DeviceIdentity("/dev/disk/by-id/clock",
                    ch.size()), CHUNK, new ChangeId("g", 1), Optional.empty(), Optional.empty());
            return new BackupWriter(c, codec, pool, 4).backup(req, ch);
        }
    }

    /** The operator's verify reports every point healthy, and each restores byte for byte. */
    private void verifyAndRestore(Map<String, byte[]> images) throws Exception {
        try (TransportClient op = connect(OPERATOR_TOKEN); TransportClient node = connect(NODE_TOKEN)) {
            List<PointRef> refs = images.keySet().stream().map(p -> new PointRef("node-a", p)).toList();
            VerifyReport report = op.verify(refs);
            assertThat(report.healthy()).as("verify: %s", report).isTrue();
            assertThat(report.chunksChecked()).isPositive();
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                Path out = work.resolve("restore-" + e.getKey());
                Files.deleteIfExists(out);
                try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    new RestoreReader(node, codec, 8).restore(new PointRef("node-a", e.getKey()), ch, false);
                }
                assertThat(Files.mismatch(out, writeTemp(e.getValue()))).as("restore of %s", e.getKey()).isEqualTo(-1L);
            }
        }
    }

    private Path writeTemp(byte[] bytes) throws IOException {
        Path p = work.resolve("expected.img");
        Files.write(p, bytes);
        return p;
    }
}
