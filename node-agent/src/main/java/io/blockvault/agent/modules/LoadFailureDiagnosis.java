package io.blockvault.agent.modules;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure decisions of {@code build-and-load}: why a module load failed, from what insmod printed
 * (kmod's and busybox' texts carry the kernel's strerror), the Secure Boot state and the ftrace
 * users of the hooked function; and whether Secure Boot is on.
 */
public final class LoadFailureDiagnosis {

    /** The kernel function bdevfilter hooks with an IPMODIFY ftrace_ops (one such user per function). */
    public static final String HOOKED = "submit_bio_noacct";

    private LoadFailureDiagnosis() {
    }

    /**
     * @param module           the module that failed (bdevfilter or blksnap)
     * @param insmodOutput     what insmod printed
     * @param secureBoot       Secure Boot is on
     * @param enabledFunctions the text of tracing/enabled_functions, or null when unreadable
     * @param dmesgTail        the last kernel messages, or empty
     */
    public static ModuleState diagnose(String module, String insmodOutput, boolean secureBoot,
            String enabledFunctions, String dmesgTail) {
        String out = insmodOutput.strip();
        String lower = out.toLowerCase(Locale.ROOT);
        if (lower.contains("key was rejected by service")) {
            if (secureBoot) {
                return new ModuleState(ModuleState.Reason.SecureBootKeyMissing, "Secure Boot is on and the kernel "
                        + "rejected the signature of " + module + " (" + out + "); enroll the DKMS signing key "
                        + "(mokutil --import /var/lib/dkms/mok.pub, then confirm at the next boot) or sign the "
                        + "modules with a key the kernel trusts");
            }
            return new ModuleState(ModuleState.Reason.ModuleLoadFailed, "the kernel rejected the signature of "
                    + module + " although Secure Boot is off (" + out + "); the kernel enforces signed modules "
                    + "(module.sig_enforce or lockdown): sign the modules with a trusted key"
                    + dmesg(dmesgTail));
        }
        if (lower.contains("device or resource busy") && module.equals("bdevfilter")) {
            List<String> users = ftraceUsers(enabledFunctions, HOOKED);
            if (!users.isEmpty() || dmesgTail.contains("cannot register the ftrace hook: -16")) {
                return new ModuleState(ModuleState.Reason.FtraceHookBusy, "another ftrace user modifies " + HOOKED
                        + " (" + (users.isEmpty() ? "see the kernel log: " + dmesgTail.strip()
                                : String.join(", ", users)) + "), so bdevfilter cannot hook it; unload that "
                        + "module (a livepatch, another backup product's filter), or use its snapshot module if it "
                        + "is Veeam's");
            }
        }
        return new ModuleState(ModuleState.Reason.ModuleLoadFailed, "loading " + module + " failed: " + out
                + dmesg(dmesgTail));
    }

    private static String dmesg(String tail) {
        return tail.isBlank() ? "" : "; kernel log: " + tail.strip();
    }

    private static final Pattern HANDLER = Pattern.compile("\\(([A-Za-z0-9_.]+)\\+0x[0-9a-f]+/0x[0-9a-f]+"
            + "(?: \\[([A-Za-z0-9_]+)\\])?\\)");

    /**
     * The IPMODIFY ftrace users of {@code function} in the text of tracing/enabled_functions, lines
     * such as {@code submit_bio_noacct (1) R I \ttramp: 0x... (bdevfiltex_ftrace+0x0/0x60 [bdevfiltex])
     * ->ftrace_ops_assist_func+0x0/0x100}, as "handler [module]". Empty when there is none or the
     * text is unknown.
     */
    public static List<String> ftraceUsers(String enabledFunctions, String function) {
        if (enabledFunctions == null) {
            return List.of();
        }
        return enabledFunctions.lines()
                .filter(l -> l.startsWith(function + " "))
                .filter(l -> List.of(l.split("\\s+")).contains("I"))
                .map(l -> {
                    Matcher m = HANDLER.matcher(l);
                    return !m.find() ? l.strip() : m.group(1) + (m.group(2) == null ? "" : " [" + m.group(2) + "]");
                })
                .toList();
    }

    /**
     * Secure Boot from the EFI variable {@code SecureBoot-8be4df61-...} (4 attribute bytes, then 1 when
     * on), else from {@code mokutil --sb-state} ("SecureBoot enabled"); off when neither says on.
     */
    public static boolean secureBootEnabled(byte[] efiVariable, String mokutilOutput) {
        if (efiVariable != null && efiVariable.length >= 5) {
            return efiVariable[4] == 1;
        }
        return mokutilOutput != null
                && mokutilOutput.toLowerCase(Locale.ROOT).contains("secureboot enabled");
    }

    /** The last {@code n} lines of {@code text}. */
    public static String tail(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }
}
