package io.blockvault.agent.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options every repository subcommand takes. */
public final class CommonOptions {

    @Mixin
    RepositoryOptions repository;

    @Option(names = "--node", paramLabel = "NAME", description = "node the restore points belong to (default: this "
            + "host's name)")
    String node;

    @Option(names = "--json", description = "print one JSON object on stdout (for scripts)")
    boolean json;

    String node() {
        return node == null ? Nodes.hostname() : node;
    }
}
