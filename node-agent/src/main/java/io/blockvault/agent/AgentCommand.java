package io.blockvault.agent;

import io.blockvault.agent.cli.BackupCommand;
import io.blockvault.agent.cli.BuildAndLoadCommand;
import io.blockvault.agent.cli.CodecThroughputCommand;
import io.blockvault.agent.cli.ListCommand;
import io.blockvault.agent.cli.RestoreCommand;
import io.blockvault.agent.cli.VerifyCommand;
import io.blockvault.agent.controller.RunCommand;
import io.blockvault.repository.client.RepositoryException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the node agent: the DaemonSet process and the administrator's command line.
 * Exit codes: 0 success, 1 failure, 2 usage error. Errors are one line "error: ..." on stderr (and
 * a JSON object on stdout with --json); a stack trace only with BLOCKVAULT_DEBUG=1.
 */
@Command(name = "blockvault-agent", mixinStandardHelpOptions = true,
        description = "The blockvault node agent: snapshot block devices, back up what changed, restore.",
        versionProvider = AgentCommand.Version.class,
        subcommands = {BackupCommand.class, RestoreCommand.class, ListCommand.class, VerifyCommand.class,
                RunCommand.class, BuildAndLoadCommand.class, CodecThroughputCommand.class})
public final class AgentCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its error handling, as main runs it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new AgentCommand());
        cl.setExecutionExceptionHandler(AgentCommand::handle);
        return cl;
    }

    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (e instanceof CommandLine.ParameterException pe) {
            throw pe;
        }
        String message = describe(e);
        PrintWriter err = cmd.getErr();
        err.println("error: " + message);
        if ("1".equals(System.getenv("BLOCKVAULT_DEBUG"))) {
            e.printStackTrace(err);
        }
        err.flush();
        if (cmd.getParseResult() != null && cmd.getParseResult().hasMatchedOption("--json")) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", false);
            m.put("error", message);
            if (e instanceof RepositoryException re) {
                m.put("reason", re.reason().name());
            }
            try {
                cmd.getOut().println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m));
            } catch (com.fasterxml.jackson.core.JsonProcessingException jpe) {
                cmd.getOut().println("{\"ok\":false}");
            }
            cmd.getOut().flush();
        }
        return 1;
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            return m + " does not exist; check the path";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + m + "; run as root or fix the permissions";
        }
        if (e instanceof java.net.ConnectException || e instanceof java.net.UnknownHostException) {
            return "cannot reach the repository: " + m + "; check --repository and that the transport runs";
        }
        if (e instanceof javax.net.ssl.SSLException) {
            return "TLS to the repository failed: " + m + "; check --ca-file matches the repository's certificate "
                    + "and that the certificate names the host of --repository (else pass the name it carries with "
                    + "--server-name)";
        }
        if (e instanceof RuntimeException) {
            return "internal error: " + e + " (a bug; rerun with BLOCKVAULT_DEBUG=1 and report the stack trace)";
        }
        return m == null ? e.toString() : m;
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
