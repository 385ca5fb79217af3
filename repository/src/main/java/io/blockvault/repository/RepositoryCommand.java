package io.blockvault.repository;

import io.blockvault.repository.guard.ClockAcceptCommand;
import io.blockvault.repository.guard.GuardCommand;
import io.blockvault.repository.store.VerifyCommand;
import io.blockvault.repository.transport.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the repository jar: {@code serve} runs the transport, {@code guard} the guard. */
@Command(name = "blockvault-repository", mixinStandardHelpOptions = true,
        description = "The blockvault hardened repository.",
        versionProvider = RepositoryCommand.Version.class,
        subcommands = {ServeCommand.class, GuardCommand.class, ClockAcceptCommand.class, VerifyCommand.class})
public final class RepositoryCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        }
        CommandLine cl = new CommandLine(new RepositoryCommand());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + e.getMessage());
            return 1;
        });
        System.exit(cl.execute(args));
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
