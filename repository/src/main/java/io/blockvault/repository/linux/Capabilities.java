package io.blockvault.repository.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The effective capability set of this process, from /proc/self/status. */
public record Capabilities(long effective) {

    public static final int CAP_CHOWN = 0;
    public static final int CAP_DAC_OVERRIDE = 1;
    public static final int CAP_DAC_READ_SEARCH = 2;
    public static final int CAP_FOWNER = 3;
    public static final int CAP_LINUX_IMMUTABLE = 9;

    private static final String[] NAMES = {"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
        "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin",
        "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
        "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
        "perfmon", "bpf", "checkpoint_restore"};

    public static Capabilities ofThisProcess() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return new Capabilities(Long.parseUnsignedLong(line.substring(7).trim(), 16));
            }
        }
        throw new IOException("/proc/self/status has no CapEff line");
    }

    public boolean has(int cap) {
        return (effective & (1L << cap)) != 0;
    }

    public boolean isEmpty() {
        return effective == 0;
    }

    /** Names of the capabilities set here but not in {@code allowed}. */
    public List<String> beyond(long allowed) {
        List<String> extra = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if ((effective & ~allowed & (1L << i)) != 0) {
                extra.add(i < NAMES.length ? NAMES[i] : "cap" + i);
            }
        }
        return extra;
    }

    public static long mask(int... caps) {
        long m = 0;
        for (int c : caps) {
            m |= 1L << c;
        }
        return m;
    }
}
