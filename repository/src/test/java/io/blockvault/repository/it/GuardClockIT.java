package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.FakeClockSources;
import io.blockvault.repository.RepositoryCommand;
import io.blockvault.repository.TestData;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.guard.CycleReport;
import io.blockvault.repository.guard.Guard;
import io.blockvault.repository.guard.GuardConfig;
import io.blockvault.repository.guard.TrustedClock;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.store.LockAttributes;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Issue 20: the guard's clock sources faked in its own process ({@link FakeClockSources}), against
 * the real guard on XFS with real FS_IMMUTABLE_FL. Each case ends with every locked file intact and
 * verify clean; a deletion asked through the transport and a request file planted next to it are
 * both refused. ClockAttackIT does the same end to end with libfaketime and namespaces.
 */
class GuardClockIT {

    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;
    static final long TEN_YEARS = 3650 * DAY;

    LoopFilesystem fs;
    RepositoryLayout layout;
    RepositoryStore store;
    final Linux linux = new Linux();
    final FakeClockSources sources = new FakeClockSources();
    final ChunkCodec codec = TestData.codec(true);
    final System.Logger log = System.getLogger("guard-clock-it");
    TrustedClock clock;
    Guard guard;
    long advanceSeconds;
    Path image;
    /** Every sealed file and its lock end, as the locks were set. */
    Map<Path, Long> locks;
    RestorePointIndex p1Index;
    RestorePointIndex p2Index;

    @BeforeEach
    void setUp() throws Exception {
        fs = LoopFilesystem.create("xfs", 512L << 20);
        Host.ensureTransportUser();
        layout = new RepositoryLayout(fs.mount().resolve("repo"));
        Files.createDirectories(layout.guardState());
        store = new RepositoryStore(layout, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        store.open();
        startGuard();
        image = TestData.image(fs.mount().resolve("dev.img"), 8, TestData.CHUNK, 20, 0);
        p1Index = TestData.backup(store, codec, "node-a", "p1", image, Optional.empty(), Optional.empty());
        TestData.change(image, 0, TestData.CHUNK, 21);
        p2Index = TestData.backup(store, codec, "node-a", "p2", image, Optional.empty(), Optional.empty());
        cycle();
        locks = locks();
        assertThat(locks).containsKeys(layout.storePoint("node-a", "p1"), layout.storePoint("node-a", "p2"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fs != null) {
            fs.close();
        }
    }

    GuardConfig config() {
        return new GuardConfig(layout.root(), 1, advanceSeconds, 1000, 0, 0, 86_400, 60, 3600, 86_400);
    }

    /** A guard (re)start: a new process reads the persisted record. */
    void startGuard() throws Exception {
        clock = new TrustedClock(layout.guardState().resolve("clock.properties"), sources, log);
        clock.start(config());
        guard = new Guard(layout, linux, clock, log);
        guard.prepare();
    }

    CycleReport cycle() throws Exception {
        return guard.cycle(config());
    }

    @Test
    void tenYearsAheadAtStartFreezesTheClockAndNothingIsDeleted() throws Exception {
        long trusted = clock.nowMillis();
        // restarted under a shim that moves the process's wall clock and CLOCK_BOOTTIME (libfaketime)
        sources.wall += TEN_YEARS;
        sources.boot += TEN_YEARS * 1_000_000;
        sources.advance(5_000);
        startGuard();
        assertThat(clock.frozen()).hasValueSatisfying(f -> assertThat(f.reason())
                .contains("CLOCK_BOOTTIME advanced 315360005 s but /proc/uptime 5 s"));
        assertThat(clock.nowMillis()).isBetween(trusted + 5_000, trusted + 6_000);
        assertLockedAndRefused();

        // the same at start with every source moved, as a hostile hypervisor could: the step is not counted
        sources.uptime += TEN_YEARS * 1_000_000;
        sources.wall += TEN_YEARS;
        sources.boot += TEN_YEARS * 1_000_000;
        startGuard();
        assertThat(clock.nowMillis()).isBetween(trusted + 5_000, trusted + 6_000);
        assertThat(clock.frozen()).isPresent();
        assertLockedAndRefused();
    }

    @Test
    void tenYearsAheadDuringARunFreezesTheClock() throws Exception {
        long trusted = clock.nowMillis();
        sources.advance(TEN_YEARS);
        cycle();
        assertThat(clock.frozen()).hasValueSatisfying(f -> assertThat(f.reason())
                .contains("the boot clock stepped 315360000 s in one cycle"));
        assertThat(clock.nowMillis()).isEqualTo(trusted);
        // frozen survives a restart, and keeps sealing
        startGuard();
        assertThat(clock.frozen()).isPresent();
        TestData.change(image, 3, TestData.CHUNK, 22);
        TestData.backup(store, codec, "node-a", "p3", image, Optional.empty(), Optional.empty());
        assertThat(cycle().pointsSealed()).isEqualTo(1);
        assertThat(LockAttributes.lockedUntil(layout.storePoint("node-a", "p3"))).hasValueSatisfying(
                until -> assertThat(until).isBetween(trusted + DAY, trusted + DAY + 10_000));
        assertLockedAndRefused();
    }

    @Test
    void aStepOfTwentyFiveHoursFreezesTheClockWhicheverSourceTakesIt() throws Exception {
        sources.wall += 25 * HOUR; // the system clock alone
        sources.advance(1_000);
        cycle();
        assertThat(clock.frozen()).hasValueSatisfying(f -> assertThat(f.reason())
                .contains("the system clock is 90000 s off the trusted clock"));
        assertLockedAndRefused();
        acceptKeepingTheTrustedClock();
        sources.advance(25 * HOUR); // every source at once
        cycle();
        assertThat(clock.frozen()).hasValueSatisfying(f -> assertThat(f.reason())
                .contains("the boot clock stepped 90000 s in one cycle"));
        assertLockedAndRefused();
    }

    @Test
    void slowDriftWithinTheBoundIsReportedButNeverSpeedsUpTrustedTime() throws Exception {
        long trusted = clock.nowMillis();
        for (int i = 0; i < 40; i++) {
            sources.advance(1_000);
            sources.wall += 90_000; // the wall clock gains 90 s per second: one hour in all
            sources.boot += 1_000_000_000L; // the process's boot clock runs twice as fast as the kernel's
            cycle();
        }
        assertThat(clock.frozen()).isEmpty();
        assertThat(clock.lastWarning()).contains("system clock jumped by 90 s");
        assertThat(clock.nowMillis()).as("trusted time follows the slower boot clock").isEqualTo(trusted + 40_000);
        assertLockedAndRefused();
    }

    @Test
    void tenYearsBackFreezesTheClockAcrossRestarts() throws Exception {
        long trusted = clock.nowMillis();
        sources.wall -= TEN_YEARS;
        sources.advance(1_000);
        cycle();
        assertThat(clock.frozen()).hasValueSatisfying(f -> assertThat(f.reason())
                .contains("the system clock is -315360000 s off"));
        sources.advance(1_000);
        startGuard();
        cycle();
        assertThat(clock.frozen()).isPresent();
        assertThat(clock.nowMillis()).isEqualTo(trusted + 2_000);
        assertLockedAndRefused();
    }

    @Test
    void repeatedRestartsAndRebootsGainNoMoreThanTheTimeTheyTook() throws Exception {
        long trusted = clock.nowMillis();
        for (int i = 0; i < 24; i++) { // clean restarts in one boot: exactly the elapsed time
            sources.advance(10_000);
            startGuard();
            cycle();
        }
        assertThat(clock.nowMillis()).isEqualTo(trusted + 240_000);
        assertThat(clock.frozen()).isEmpty();
        // 24 reboots, each with the wall clock set ten years ahead, each boot lasting 30 s
        for (int i = 0; i < 24; i++) {
            sources.reboot("boot-r" + i, TEN_YEARS);
            startGuard();
            sources.advance(30_000);
            cycle();
        }
        // each reboot credits at most the previous boot's length: 241 s for the first (1 s after boot,
        // then 240), 31 s for each later one; plus the 30 s each boot ran. Uncapped, 24 h.
        assertThat(clock.nowMillis() - trusted - 240_000).isEqualTo(241_000 + 30_000 + 23 * (31_000 + 30_000));
        assertThat(clock.nowMillis()).isLessThan(locks.get(layout.storePoint("node-a", "p1")));
        assertThat(clock.frozen()).isPresent();
        assertLockedAndRefused();
    }

    @Test
    void rootAcceptsTheTimeOnTheHostAndTheGuardDeletesAgain() throws Exception {
        sources.advance(30 * HOUR); // a legitimate pause longer than the bound, say a VM suspended
        cycle();
        assertThat(clock.frozen()).isPresent();
        advanceSeconds = DAY / 1000 + 600; // root's own configuration moves trusted time past the locks
        cycle();
        assertLockedAndRefused(); // frozen: expired or not, nothing goes
        Files.writeString(layout.guardState().resolve("clock-accept"), "something else\n");
        cycle();
        assertThat(clock.frozen()).as("a file that says neither word changes nothing").isPresent();

        CompletableFuture<Integer> accept = CompletableFuture.supplyAsync(() -> new CommandLine(new RepositoryCommand())
                .execute("clock-accept", "--repository", layout.root().toString(), "--keep-trusted-clock",
                        "--wait-seconds", "30"));
        while (!accept.isDone()) {
            cycle();
            Thread.sleep(50);
        }
        assertThat(accept.get()).isZero();
        assertThat(clock.frozen()).isEmpty();
        store = new RepositoryStore(layout, new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000)); // transport restart
        store.open();
        cycle();
        store.requestDelete(new PointRef("node-a", "p1"));
        assertThat(cycle().pointsDeleted()).isEqualTo(1);
        assertThat(layout.storePoint("node-a", "p1")).doesNotExist();
        assertThat(store.verify(List.of(new PointRef("node-a", "p2"))).healthy()).isTrue();
        // lowering the configured advance never moves the trusted clock back
        long advanced = clock.nowMillis();
        advanceSeconds = 0;
        cycle();
        assertThat(clock.nowMillis()).isGreaterThanOrEqualTo(advanced);
    }

    @Test
    void aFrozenClockCollectsNoGarbageUntilRootAccepts() throws Exception {
        Set<ChunkId> onlyP1 = new HashSet<>(p1Index.chunks());
        onlyP1.removeAll(p2Index.chunks());
        onlyP1.remove(ChunkId.ZERO);
        assertThat(onlyP1).isNotEmpty();
        advanceSeconds = DAY / 1000 + 600; // p1's lock and every lease have expired by the guard's clock
        cycle();
        store.requestDelete(new PointRef("node-a", "p1"));
        assertThat(cycle().pointsDeleted()).isEqualTo(1); // GC sees p1's own chunks unreferenced once

        sources.wall += 25 * HOUR;
        sources.advance(1_000);
        assertThat(cycle().chunksCollected()).as("the cycle that freezes collects nothing").isZero();
        assertThat(clock.frozen()).isPresent();
        sources.advance(2 * HOUR); // honest time passes while frozen: still nothing
        assertThat(cycle().chunksCollected()).isZero();
        for (ChunkId id : onlyP1) {
            assertThat(layout.storeChunk(id)).as("chunk %s", id).exists();
        }

        acceptKeepingTheTrustedClock();
        cycle();
        for (ChunkId id : onlyP1) {
            assertThat(layout.storeChunk(id)).as("chunk %s", id).doesNotExist();
        }
        assertThat(store.verify(List.of(new PointRef("node-a", "p2"))).healthy()).isTrue();
    }

    @Test
    void theTransportRefusesWhenThePublishedTimeRunsAheadOfItsOwnClock() throws Exception {
        assertThatThrownBy(() -> store.requestDelete(new PointRef("node-a", "p1"))).hasMessageContaining(
                "immutable until");
        sources.wall += 2 * DAY;
        sources.advance(1_000);
        cycle();
        acceptSystemClock(); // root moved trusted time two days up: locks expired by the guard's clock
        assertThat(clock.frozen()).isEmpty();
        assertThatThrownBy(() -> store.requestDelete(new PointRef("node-a", "p1")))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("ahead of this transport's own clock");
        assertThat(layout.requests().toFile().list()).isEmpty();
    }

    // ---- helpers

    void acceptKeepingTheTrustedClock() throws Exception {
        Files.writeString(layout.guardState().resolve("clock-accept"), TrustedClock.KEEP + "\n");
        cycle();
        assertThat(clock.frozen()).isEmpty();
    }

    void acceptSystemClock() throws Exception {
        Files.writeString(layout.guardState().resolve("clock-accept"), TrustedClock.SYSTEM + "\n");
        cycle();
        assertThat(clock.nowMillis()).isEqualTo(sources.wall + advanceSeconds * 1000);
    }

    /**
     * Every file sealed in setUp is still there, immutable, with its lock; verify is clean; the
     * transport refuses to pass on a deletion and the guard refuses a planted request, then GC runs
     * and takes nothing.
     */
    void assertLockedAndRefused() throws Exception {
        PointRef p1 = new PointRef("node-a", "p1");
        assertThatThrownBy(() -> store.requestDelete(p1)).isInstanceOf(RepositoryException.class)
                .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(RepositoryException.Reason.LOCKED);
        Files.writeString(layout.requests().resolve("planted.req"), "node-a\np1\n");
        CycleReport r = cycle();
        assertThat(r.deletesRefused()).isEqualTo(1);
        assertThat(r.pointsDeleted()).isZero();
        assertThat(r.chunksCollected()).isZero();
        for (Map.Entry<Path, Long> e : locks.entrySet()) {
            assertThat(e.getKey()).exists();
            assertThat(linux.isImmutable(e.getKey())).as("immutable %s", e.getKey()).isTrue();
            assertThat(LockAttributes.lockedUntil(e.getKey())).contains(e.getValue());
        }
        assertThat(store.verify(List.of(p1, new PointRef("node-a", "p2"))).healthy()).isTrue();
    }

    Map<Path, Long> locks() throws Exception {
        Map<Path, Long> all = new HashMap<>();
        try (Stream<Path> s = Files.walk(layout.store())) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                if (p.startsWith(layout.storeChunks()) || p.startsWith(layout.storePoints())) {
                    all.put(p, LockAttributes.lockedUntil(p).orElseThrow());
                }
            }
        }
        return all;
    }
}
