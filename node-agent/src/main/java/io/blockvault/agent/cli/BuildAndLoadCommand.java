package io.blockvault.agent.cli;

import io.blockvault.agent.modules.ModuleLoader;
import io.blockvault.agent.modules.ModuleState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code build-and-load}: what the DaemonSet's init container runs. Prints one line
 * {@code Reason: message}, writes it to the state file the agent reads, and exits with the reason's
 * code (0 loaded; 10 KernelHeadersMissing, 11 ModuleBuildFailed, 12 SecureBootKeyMissing,
 * 13 FtraceHookBusy, 14 ModuleLoadFailed, 15 ModulesUnsupported).
 */
@Command(name = "build-and-load", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Find or build (DKMS) and load the blksnap modules for the running kernel, or say why not.")
public final class BuildAndLoadCommand implements Callable<Integer> {

    @Option(names = "--kernel", paramLabel = "RELEASE", description = "kernel release (default: the running one)")
    String kernel;

    @Option(names = "--module-dir", paramLabel = "DIR",
            description = "a directory with prebuilt bdevfilter.ko and blksnap.ko, searched first")
    Path moduleDir;

    @Option(names = "--state-file", paramLabel = "FILE", defaultValue = "/run/blockvault/module-state",
            description = "where the verdict is written for the agent (default: ${DEFAULT-VALUE})")
    Path stateFile;

    @Option(names = "--continue-without-modules",
            description = "exit 0 also when the modules cannot be loaded (the state file says why): the agent "
                    + "then starts and reports the reason instead of the pod never starting")
    boolean continueWithout;

    @Override
    public Integer call() throws Exception {
        String release = kernel != null ? kernel : Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        ModuleState state = new ModuleLoader(Path.of("/"), release, Optional.ofNullable(moduleDir)).run();
        state.write(stateFile);
        if (state.reason().loaded()) {
            System.out.println(state.line());
            return 0;
        }
        System.err.println("error: " + state.line());
        return continueWithout ? 0 : state.reason().exitCode();
    }
}
