package io.blockvault.agent.modules;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What the DaemonSet's init container does for the running kernel: use blksnap modules that are
 * already loaded (ours, or Veeam's: the agent's binding speaks to both), else find ours (a module
 * directory given, /lib/modules/K/updates/dkms, /lib/modules/K/extra, modinfo), else build them
 * with DKMS, then load bdevfilter and blksnap. Every way it can fail ends in a {@link ModuleState}
 * with its own reason. DKMS sources ({@code blksnap-VERSION/dkms.conf}) are looked for in
 * {@value #IMAGE_SOURCES} (the agent image's: in the pod, /usr/src is the node's, mounted for its
 * kernel headers) and then in /usr/src.
 *
 * @param root       "/" on a node; another root only for tests of the search
 * @param kernel     the kernel release (uname -r)
 * @param moduleDir  a directory with prebuilt bdevfilter.ko and blksnap.ko, searched first
 */
public record ModuleLoader(Path root, String kernel, Optional<Path> moduleDir) {

    static final List<String> MODULES = List.of("bdevfilter", "blksnap");
    static final String IMAGE_SOURCES = "/opt/blockvault/dkms";
    static final String EFI_SECURE_BOOT = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

    /** The result of one external program. */
    record Run(int exit, String output) {
    }

    public ModuleState run() throws IOException, InterruptedException {
        if (Files.exists(path("dev/blksnap-control")) && Files.exists(path("dev/bdevfilter"))) {
            return new ModuleState(ModuleState.Reason.BlksnapLoaded, "blockvault's blksnap modules are loaded "
                    + "(/dev/blksnap-control, /dev/bdevfilter) for kernel " + kernel);
        }
        if (Files.exists(path("dev/veeamblksnap")) && Files.exists(path("dev/bdevfilter"))) {
            return new ModuleState(ModuleState.Reason.VeeamBlksnapLoaded, "Veeam's blksnap modules are loaded "
                    + "(/dev/veeamblksnap, /dev/bdevfilter); the agent uses them");
        }
        if (!Files.exists(path("proc/modules"))) {
            // A kernel built without CONFIG_MODULES has no /proc/modules: building would be for nothing.
            return new ModuleState(ModuleState.Reason.ModulesUnsupported, "kernel " + kernel + " cannot load "
                    + "modules at all (built without loadable module support: /proc/modules is missing), so "
                    + "blksnap cannot run on this node; backups read the live device (NoSnap); use a kernel "
                    + "with CONFIG_MODULES for consistent, incremental backups");
        }
        Optional<List<Path>> found = find();
        boolean built = false;
        if (found.isEmpty()) {
            Path build = path("lib/modules/" + kernel + "/build");
            if (!Files.isDirectory(build)) {
                return new ModuleState(ModuleState.Reason.KernelHeadersMissing, "no blksnap modules for kernel "
                        + kernel + " and no kernel headers to build them (/lib/modules/" + kernel + "/build is "
                        + "missing); install linux-headers-" + kernel + " on the node");
            }
            Optional<ModuleState> failed = dkmsInstall();
            if (failed.isPresent()) {
                return failed.get();
            }
            found = find();
            if (found.isEmpty()) {
                return new ModuleState(ModuleState.Reason.ModuleBuildFailed, "dkms install succeeded but "
                        + "bdevfilter.ko and blksnap.ko are not under /lib/modules/" + kernel + "; check dkms.conf");
            }
            built = true;
        }
        for (int i = 0; i < MODULES.size(); i++) {
            String name = MODULES.get(i);
            if (Files.isDirectory(path("sys/module/" + name))) {
                continue; // loaded before (an earlier start of this pod)
            }
            Path ko = found.get().get(i);
            long kernelLines = exec(List.of("dmesg"), 10).output().lines().count();
            Run insmod = exec(List.of("insmod", ko.toString()), 60);
            if (insmod.exit() != 0) {
                // Only what the kernel said about this attempt.
                List<String> after = exec(List.of("dmesg"), 10).output().lines().skip(kernelLines).toList();
                return LoadFailureDiagnosis.diagnose(name, insmod.output(), secureBoot(), enabledFunctions(),
                        LoadFailureDiagnosis.tail(String.join("\n", after), 8));
            }
        }
        // devtmpfs creates the node at once; a few moments for a slow udev all the same.
        for (int i = 0; i < 50 && !Files.exists(path("dev/blksnap-control")); i++) {
            Thread.sleep(100);
        }
        if (!Files.exists(path("dev/blksnap-control"))) {
            return new ModuleState(ModuleState.Reason.ModuleLoadFailed, "the modules loaded but /dev/blksnap-control"
                    + " did not appear; is the host's /dev mounted into the container?");
        }
        return new ModuleState(built ? ModuleState.Reason.ModulesBuiltAndLoaded : ModuleState.Reason.ModulesLoaded,
                (built ? "built with DKMS and loaded " : "loaded ") + String.join(", ",
                        found.get().stream().map(Path::toString).toList()) + " into kernel " + kernel);
    }

    /** bdevfilter and blksnap (in that order) from the first place that has both. */
    Optional<List<Path>> find() throws IOException, InterruptedException {
        List<Path> dirs = new ArrayList<>();
        moduleDir.ifPresent(dirs::add);
        dirs.add(path("lib/modules/" + kernel + "/updates/dkms"));
        dirs.add(path("lib/modules/" + kernel + "/extra"));
        for (Path dir : dirs) {
            List<Path> both = new ArrayList<>();
            for (String m : MODULES) {
                moduleFile(dir, m).ifPresent(both::add);
            }
            if (both.size() == MODULES.size()) {
                return Optional.of(both);
            }
        }
        // Elsewhere in the kernel's module tree (a distribution package): modinfo knows.
        List<Path> both = new ArrayList<>();
        for (String m : MODULES) {
            Run r = exec(List.of("modinfo", "-k", kernel, "-F", "filename", m), 30);
            String file = r.output().strip();
            if (r.exit() != 0 || file.isEmpty() || !file.startsWith("/") || !Files.isRegularFile(Path.of(file))) {
                return Optional.empty();
            }
            both.add(Path.of(file));
        }
        return Optional.of(both);
    }

    private static Optional<Path> moduleFile(Path dir, String name) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, name + ".ko{,.xz,.zst,.gz}")) {
            for (Path p : s) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** dkms install of the newest blksnap sources; empty when it succeeded. */
    Optional<ModuleState> dkmsInstall() throws IOException, InterruptedException {
        Optional<String> version = Optional.empty();
        Path tree = null;
        for (String dir : List.of(IMAGE_SOURCES.substring(1), "usr/src")) {
            version = sourceVersion(path(dir));
            if (version.isPresent()) {
                tree = path(dir);
                break;
            }
        }
        if (version.isEmpty()) {
            return Optional.of(new ModuleState(ModuleState.Reason.ModuleBuildFailed, "no blksnap DKMS sources in "
                    + IMAGE_SOURCES + " or /usr/src (blksnap-VERSION/dkms.conf); the agent image or the node must "
                    + "provide them"));
        }
        List<String> cmd = new ArrayList<>(List.of("dkms", "install", "blksnap/" + version.get(), "-k", kernel));
        if (!tree.equals(path("usr/src"))) {
            cmd.addAll(List.of("--sourcetree", tree.toString()));
        }
        Run r = exec(cmd, 1800);
        if (r.exit() == 0) {
            return Optional.empty();
        }
        String log = "";
        for (Path candidate : List.of(path("var/lib/dkms/blksnap/" + version.get() + "/build/make.log"),
                path("var/lib/dkms/blksnap/" + version.get() + "/" + kernel + "/" + arch() + "/log/make.log"))) {
            if (Files.isRegularFile(candidate)) {
                log = Files.readString(candidate, StandardCharsets.UTF_8);
            }
        }
        String tail = LoadFailureDiagnosis.tail(log.isEmpty() ? r.output() : log, 6);
        return Optional.of(new ModuleState(ModuleState.Reason.ModuleBuildFailed, "dkms install blksnap/"
                + version.get() + " -k " + kernel + " failed (exit " + r.exit() + "); the kernel's headers may not "
                + "match it or the module does not support it: " + tail));
    }

    private static Optional<String> sourceVersion(Path src) throws IOException {
        if (!Files.isDirectory(src)) {
            return Optional.empty();
        }
        String best = null;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(src, "blksnap-*")) {
            for (Path p : s) {
                if (Files.isRegularFile(p.resolve("dkms.conf"))) {
                    String v = p.getFileName().toString().substring("blksnap-".length());
                    if (best == null || v.compareTo(best) > 0) {
                        best = v;
                    }
                }
            }
        }
        return Optional.ofNullable(best);
    }

    private boolean secureBoot() throws InterruptedException {
        byte[] efi = null;
        try {
            efi = Files.readAllBytes(path(EFI_SECURE_BOOT));
        } catch (IOException e) {
            // no EFI variables: mokutil may still know
        }
        String mokutil = efi == null ? exec(List.of("mokutil", "--sb-state"), 30).output() : null;
        return LoadFailureDiagnosis.secureBootEnabled(efi, mokutil);
    }

    /** tracing/enabled_functions, mounting tracefs when it is not (a privileged container may). */
    private String enabledFunctions() throws InterruptedException {
        for (String dir : List.of("sys/kernel/tracing", "sys/kernel/debug/tracing")) {
            Path f = path(dir + "/enabled_functions");
            if (!Files.exists(f) && dir.equals("sys/kernel/tracing") && Files.isDirectory(path(dir))) {
                exec(List.of("mount", "-t", "tracefs", "tracefs", path(dir).toString()), 30);
            }
            try {
                return Files.readString(f);
            } catch (IOException e) {
                // try the next place
            }
        }
        return null;
    }

    private static String arch() {
        String a = System.getProperty("os.arch");
        return "amd64".equals(a) ? "x86_64" : a;
    }

    private Path path(String relative) {
        return root.resolve(relative);
    }

    /** Runs a program; a missing program is exit 127 with the reason as its output. */
    static Run exec(List<String> cmd, int timeoutSeconds) throws InterruptedException {
        Path out = null;
        try {
            out = Files.createTempFile("blockvault-exec", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Run(124, cmd.get(0) + " did not finish within " + timeoutSeconds + " s");
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Run(127, cmd.get(0) + ": " + e.getMessage());
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    // a temporary file left in /tmp
                }
            }
        }
    }
}
