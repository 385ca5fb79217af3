package io.blockvault.agent.controller;

import io.blockvault.agent.backup.RepositoryConnector;
import io.blockvault.agent.cli.RepositoryOptions;
import io.blockvault.agent.keys.KeyDirectory;
import io.blockvault.repository.format.ChunkCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The BackupRepositories a node's one agent serves: every policy covering the node may name another,
 * so {@code run} takes one group of options per repository. Each has its own address, CA and keys;
 * the node's repository token (one ServiceAccount token, audience blockvault-repository) is shared.
 */
public final class ServedRepositories {

    /** One repository, as the operator's DaemonSet passes it. */
    public record Served(String name, RepositoryConnector connector, ChunkCodec codec) {
    }

    /** The options; {@link #resolve} checks them. */
    public static final class Options {

        @ArgGroup(exclusive = false, multiplicity = "1..*",
                heading = "%nRepositories served (repeat the group for each BackupRepository):%n")
        List<Target> targets;

        @Option(names = "--token-file", paramLabel = "FILE", required = true,
                description = "file holding this node's bearer token, shown to every repository")
        Path tokenFile;

        @Option(names = "--connections", paramLabel = "N", defaultValue = "4",
                description = "parallel connections to a repository (default: ${DEFAULT-VALUE})")
        int connections;

        /** Checks every group and returns them by name, in the order given. */
        public ServedRepositories resolve(CommandLine cmd) throws IOException {
            Set<String> seen = new HashSet<>();
            for (Target t : targets) {
                if (!seen.add(t.name)) {
                    throw new CommandLine.ParameterException(cmd, "--repository-name " + t.name + " is given twice; "
                            + "give each repository once");
                }
            }
            Map<String, Served> byName = new LinkedHashMap<>();
            for (Target t : targets) {
                RepositoryConnector connector = RepositoryOptions.remote(cmd, t.endpoint, t.caFile, t.serverName,
                        tokenFile, connections);
                byName.put(t.name, new Served(t.name, connector, new ChunkCodec(KeyDirectory.read(t.keyDir))));
            }
            return new ServedRepositories(byName);
        }
    }

    /** One group: which repository and how to reach it. */
    static final class Target {
        @Option(names = "--repository-name", paramLabel = "NAME", required = true,
                description = "a BackupRepository whose Backups and Restores of this node this agent runs")
        String name;

        @Option(names = "--repository", paramLabel = "HOST:PORT", required = true,
                description = "its transport (TLS 1.3), e.g. vault-repository.blockvault.svc:6162")
        String endpoint;

        @Option(names = "--ca-file", paramLabel = "FILE", required = true,
                description = "PEM CA that signed its certificate")
        Path caFile;

        @Option(names = "--key-dir", paramLabel = "DIR", required = true,
                description = "its keys as the operator's Secret mounted as files: id-key, key-N, current")
        Path keyDir;

        @Option(names = "--server-name", paramLabel = "NAME",
                description = "the name its certificate carries, when it differs from the HOST dialled")
        String serverName;
    }

    private final Map<String, Served> byName;

    public ServedRepositories(Map<String, Served> byName) {
        this.byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
    }

    public Set<String> names() {
        return byName.keySet();
    }

    /** The repository a Backup or Restore names; the controllers claim only objects of served ones. */
    public Served get(String name) throws JobFailure {
        Served s = byName.get(name);
        if (s == null) {
            throw new JobFailure("RepositoryNotServed", "this agent is not configured for repository '" + name
                    + "' (it serves " + names() + "); the operator adds it to the agent DaemonSet when a valid "
                    + "BackupPolicy names it");
        }
        return s;
    }
}
