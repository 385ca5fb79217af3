package io.blockvault.agent.modules;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * The verdict of {@code build-and-load}: a CamelCase reason the operator and the agent show, and one
 * line saying what happened and what to do. Written to a state file the agent reads.
 */
public record ModuleState(Reason reason, String message) {

    /** Success reasons exit 0; each failure has its own exit code, so scripts can tell them apart. */
    public enum Reason {
        BlksnapLoaded(0),
        VeeamBlksnapLoaded(0),
        ModulesLoaded(0),
        ModulesBuiltAndLoaded(0),
        KernelHeadersMissing(10),
        ModuleBuildFailed(11),
        SecureBootKeyMissing(12),
        FtraceHookBusy(13),
        ModuleLoadFailed(14),
        ModulesUnsupported(15);

        private final int exitCode;

        Reason(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }

        public boolean loaded() {
            return exitCode == 0;
        }
    }

    public ModuleState {
        // One line: the operator shows it in a status message.
        message = message.strip().replaceAll("\\s*\\R\\s*", " | ");
    }

    /** {@code Reason: message}, as printed and shown. */
    public String line() {
        return reason + ": " + message;
    }

    public void write(Path file) throws IOException {
        Properties p = new Properties();
        p.setProperty("reason", reason.name());
        p.setProperty("message", message);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var w = Files.newBufferedWriter(tmp)) {
            p.store(w, "written by blockvault-agent build-and-load");
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The state a previous build-and-load left, if any (a damaged file counts as none). */
    public static Optional<ModuleState> read(Path file) {
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file)));
            return Optional.of(new ModuleState(Reason.valueOf(p.getProperty("reason", "")),
                    p.getProperty("message", "")));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
