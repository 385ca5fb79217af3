package io.blockvault.agent.modules;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The search of build-and-load over a node's file tree (a temporary root): modules already loaded,
 * ours or Veeam's; where prebuilt modules are found; no headers; headers but no DKMS sources. The
 * loading itself runs in the VM case {@code kernel-dkms/tests/run-vm modules}.
 */
class ModuleLoaderTest {

    static final String KERNEL = "9.9.9-blockvault-test";

    @TempDir
    Path root;

    /** A kernel with loadable module support, as most have; {@link #kernelWithoutModuleSupport} removes it. */
    @BeforeEach
    void kernelWithModuleSupport() throws Exception {
        Files.createDirectories(root.resolve("proc"));
        Files.createFile(root.resolve("proc/modules"));
    }

    ModuleState run(Optional<Path> moduleDir) throws Exception {
        return new ModuleLoader(root, KERNEL, moduleDir).run();
    }

    @Test
    void loadedModulesAreUsedOursOrVeeams() throws Exception {
        Files.createDirectories(root.resolve("dev"));
        Files.createFile(root.resolve("dev/bdevfilter"));
        Files.createFile(root.resolve("dev/veeamblksnap"));
        ModuleState veeam = run(Optional.empty());
        assertThat(veeam.reason()).isEqualTo(ModuleState.Reason.VeeamBlksnapLoaded);
        assertThat(veeam.line()).startsWith("VeeamBlksnapLoaded: Veeam's blksnap modules are loaded");
        Files.createFile(root.resolve("dev/blksnap-control"));
        assertThat(run(Optional.empty()).reason()).isEqualTo(ModuleState.Reason.BlksnapLoaded);
    }

    @Test
    void prebuiltModulesAreFoundInTheGivenDirectoryThenUnderTheKernelsTree() throws Exception {
        Path dkms = Files.createDirectories(root.resolve("lib/modules/" + KERNEL + "/updates/dkms"));
        Files.createFile(dkms.resolve("bdevfilter.ko.xz"));
        Files.createFile(dkms.resolve("blksnap.ko.xz"));
        ModuleLoader loader = new ModuleLoader(root, KERNEL, Optional.empty());
        assertThat(loader.find()).contains(java.util.List.of(dkms.resolve("bdevfilter.ko.xz"),
                dkms.resolve("blksnap.ko.xz")));
        Path given = Files.createDirectories(root.resolve("prebuilt"));
        Files.createFile(given.resolve("bdevfilter.ko"));
        assertThat(new ModuleLoader(root, KERNEL, Optional.of(given)).find()).as("only one of the two there")
                .contains(java.util.List.of(dkms.resolve("bdevfilter.ko.xz"), dkms.resolve("blksnap.ko.xz")));
        Files.createFile(given.resolve("blksnap.ko"));
        assertThat(new ModuleLoader(root, KERNEL, Optional.of(given)).find())
                .contains(java.util.List.of(given.resolve("bdevfilter.ko"), given.resolve("blksnap.ko")));
    }

    @Test
    void kernelWithoutModuleSupport() throws Exception {
        Files.delete(root.resolve("proc/modules"));
        Files.createDirectories(root.resolve("lib/modules/" + KERNEL + "/build"));
        ModuleState s = run(Optional.empty());
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.ModulesUnsupported);
        assertThat(s.reason().exitCode()).isEqualTo(15);
        assertThat(s.message()).contains("kernel " + KERNEL + " cannot load modules at all", "/proc/modules",
                "NoSnap");
        Files.createDirectories(root.resolve("dev"));
        Files.createFile(root.resolve("dev/bdevfilter"));
        Files.createFile(root.resolve("dev/blksnap-control"));
        assertThat(run(Optional.empty()).reason()).as("built-in modules are used all the same")
                .isEqualTo(ModuleState.Reason.BlksnapLoaded);
    }

    @Test
    void noModulesAndNoHeadersIsKernelHeadersMissing() throws Exception {
        ModuleState s = run(Optional.empty());
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.KernelHeadersMissing);
        assertThat(s.reason().exitCode()).isEqualTo(10);
        assertThat(s.message()).contains("/lib/modules/" + KERNEL + "/build", "install linux-headers-" + KERNEL);
    }

    @Test
    void headersWithoutDkmsSourcesIsModuleBuildFailed() throws Exception {
        Files.createDirectories(root.resolve("lib/modules/" + KERNEL + "/build"));
        ModuleState s = run(Optional.empty());
        assertThat(s.reason()).isEqualTo(ModuleState.Reason.ModuleBuildFailed);
        assertThat(s.message()).contains("no blksnap DKMS sources in /opt/blockvault/dkms or /usr/src");
    }

    @Test
    void theStateFileCarriesOneLineForTheAgent() throws Exception {
        Path file = root.resolve("run/blockvault/module-state");
        new ModuleState(ModuleState.Reason.ModuleBuildFailed, "dkms failed:\n  error: x.c:1\n").write(file);
        ModuleState back = ModuleState.read(file).orElseThrow();
        assertThat(back.reason()).isEqualTo(ModuleState.Reason.ModuleBuildFailed);
        assertThat(back.message()).isEqualTo("dkms failed: | error: x.c:1");
        assertThat(ModuleState.read(root.resolve("none"))).isEmpty();
    }
}
