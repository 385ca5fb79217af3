package io.blockvault.agent.modules;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Why a load failed, decided from real texts: those marked "VM" were captured from
 * {@code kernel-dkms/tests/run-vm modules} (Debian 6.1 kernel, busybox insmod); "host" from kmod's
 * insmod on the build host; the kmod lines for EBUSY and EKEYREJECTED are kmod's format ("could not
 * insert module %s: %s") with glibc's strerror texts of those errors.
 */
class LoadFailureDiagnosisTest {

    /** VM: tracing/enabled_functions while a renamed copy of bdevfilter holds the hook. */
    static final String ENABLED_FUNCTIONS = "submit_bio_noacct (1) R I  \ttramp: 0xffffffffc0561000 "
            + "(bdevfiltex_ftrace+0x0/0x60 [bdevfiltex]) ->ftrace_ops_assist_func+0x0/0x100\n";
    /** VM: what bdevfilter logged when its ftrace_ops could not be registered. */
    static final String DMESG_BUSY = "[   52.988558] bdevfilter: cannot register the ftrace hook: -16";
    /** VM: busybox insmod of a truncated blksnap.ko. */
    static final String BUSYBOX_DAMAGED = "insmod: can't insert '/tmp/damaged/blksnap.ko': invalid module format";
    static final String DMESG_DAMAGED = "[   66.837573] Invalid ELF section header overflow";
    /** Host: kmod's insmod of a missing file. */
    static final String KMOD_MISSING = "insmod: ERROR: could not load module /nonexistent.ko: No such file or "
            + "directory";
    static final String KMOD_BUSY = "insmod: ERROR: could not insert module /lib/modules/6.1.0-56-amd64/updates/dkms/"
            + "bdevfilter.ko: Device or resource busy";
    static final String KMOD_KEY = "insmod: ERROR: could not insert module /lib/modules/6.1.0-56-amd64/updates/dkms/"
            + "bdevfilter.ko: Key was rejected by service";

    @Test
    void anotherIpmodifyUserOfTheHookIsFtraceHookBusyNamingIt() {
        ModuleState s = LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_BUSY, false, ENABLED_FUNCTIONS, DMESG_BUSY);
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.FtraceHookBusy);
        assertThat(s.reason().exitCode()).isEqualTo(13);
        assertThat(s.message()).contains("submit_bio_noacct (bdevfiltex_ftrace [bdevfiltex])", "unload that module");
        // tracefs not readable: the module's own log line still tells.
        assertThat(LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_BUSY, false, null, DMESG_BUSY).reason())
                .isEqualTo(ModuleState.Reason.FtraceHookBusy);
        // EBUSY with no ftrace user in sight is something else.
        assertThat(LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_BUSY, false, "", "").reason())
                .isEqualTo(ModuleState.Reason.ModuleLoadFailed);
    }

    @Test
    void aRejectedKeyUnderSecureBootIsSecureBootKeyMissing() {
        ModuleState s = LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_KEY, true, ENABLED_FUNCTIONS, "");
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.SecureBootKeyMissing);
        assertThat(s.reason().exitCode()).isEqualTo(12);
        assertThat(s.message()).contains("Secure Boot is on", "mokutil --import");
        ModuleState off = LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_KEY, false, null, "");
        assertThat(off.reason()).isEqualTo(ModuleState.Reason.ModuleLoadFailed);
        assertThat(off.message()).contains("Secure Boot is off", "sig_enforce");
    }

    @Test
    void anythingElseIsModuleLoadFailedWithTheKernelsWords() {
        ModuleState s = LoadFailureDiagnosis.diagnose("blksnap", BUSYBOX_DAMAGED, false, ENABLED_FUNCTIONS,
                DMESG_DAMAGED);
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.ModuleLoadFailed);
        assertThat(s.reason().exitCode()).isEqualTo(14);
        assertThat(s.line()).isEqualTo("ModuleLoadFailed: loading blksnap failed: " + BUSYBOX_DAMAGED
                + "; kernel log: " + DMESG_DAMAGED);
        assertThat(LoadFailureDiagnosis.diagnose("bdevfilter", KMOD_MISSING, false, null, "").message())
                .contains("No such file or directory");
    }

    @Test
    void secureBootFromTheEfiVariableElseMokutil() {
        // attributes (4 bytes, little-endian 0x06) then the value
        assertThat(LoadFailureDiagnosis.secureBootEnabled(new byte[] {6, 0, 0, 0, 1}, null)).isTrue();
        assertThat(LoadFailureDiagnosis.secureBootEnabled(new byte[] {6, 0, 0, 0, 0}, "SecureBoot enabled")).isFalse();
        assertThat(LoadFailureDiagnosis.secureBootEnabled(null, "SecureBoot enabled\n")).isTrue();
        assertThat(LoadFailureDiagnosis.secureBootEnabled(null, "SecureBoot disabled\n")).isFalse();
        assertThat(LoadFailureDiagnosis.secureBootEnabled(null, "EFI variables are not supported on this system\n"))
                .isFalse();
    }

    @Test
    void ftraceUsersAreTheIpmodifyOnesOfTheFunction() {
        String text = ENABLED_FUNCTIONS
                + "vfs_read (1)            \ttramp: 0xffffffffc0562000 (kprobe_ftrace_handler+0x0/0x1b0) ->x\n"
                + "submit_bio (1) R I  \ttramp: 0xffffffffc0563000 (other_hook+0x0/0x10 [other]) ->x\n";
        assertThat(LoadFailureDiagnosis.ftraceUsers(text, "submit_bio_noacct"))
                .containsExactly("bdevfiltex_ftrace [bdevfiltex]");
        assertThat(LoadFailureDiagnosis.ftraceUsers("", "submit_bio_noacct")).isEmpty();
    }
}
