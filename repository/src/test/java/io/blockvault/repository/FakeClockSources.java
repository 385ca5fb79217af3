package io.blockvault.repository;

import io.blockvault.repository.guard.TrustedClock;

/** The guard's clock inputs, as a test sets them: the process's clocks, the kernel's uptime, the boot id. */
public final class FakeClockSources implements TrustedClock.Sources {
    public long wall = System.currentTimeMillis();
    public long boot = 1_000_000_000L;
    /** /proc/uptime; a shim preloaded into the guard moves {@link #boot} but not this. */
    public long uptime = 1_000_000_000L;
    public String bootId = "boot-1";

    @Override
    public long wallMillis() {
        return wall;
    }

    @Override
    public long boottimeNanos() {
        return boot;
    }

    @Override
    public long kernelUptimeNanos() {
        return uptime;
    }

    @Override
    public String bootId() {
        return bootId;
    }

    /** Real time passes: every clock moves by {@code millis}. */
    public void advance(long millis) {
        wall += millis;
        boot += millis * 1_000_000L;
        uptime += millis * 1_000_000L;
    }

    /** A reboot {@code downMillis} long, into a boot that has been up one second. */
    public void reboot(String newBootId, long downMillis) {
        wall += downMillis + 1000;
        boot = 1_000_000_000L;
        uptime = 1_000_000_000L;
        bootId = newBootId;
    }
}
