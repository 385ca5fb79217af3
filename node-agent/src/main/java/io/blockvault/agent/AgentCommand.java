package io.blockvault.agent;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the node agent: the DaemonSet process and the administrator's command line. */
@Command(name = "blockvault-agent", mixinStandardHelpOptions = true,
        description = "The blockvault node agent: snapshot block devices, back up what changed, restore.",
        versionProvider = AgentCommand.Version.class)
public final class AgentCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentCommand()).execute(args));
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = AgentCommand.class.getPackage().getImplementationVersion();
            return new String[] {"blockvault-agent " + (v == null ? "dev" : v)};
        }
    }
}
