package io.blockvault.repository;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the repository jar: {@code serve} runs the transport, {@code guard} the guard. */
@Command(name = "blockvault-repository", mixinStandardHelpOptions = true,
        description = "The blockvault hardened repository.",
        versionProvider = RepositoryCommand.Version.class)
public final class RepositoryCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new RepositoryCommand()).execute(args));
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RepositoryCommand.class.getPackage().getImplementationVersion();
            return new String[] {"blockvault-repository " + (v == null ? "dev" : v)};
        }
    }
}
