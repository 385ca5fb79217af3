package io.blockvault.agent.cli;

import io.blockvault.agent.backup.RepositoryConnector;
import io.blockvault.agent.keys.KeyDirectory;
import io.blockvault.agent.keys.KeyFile;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import io.blockvault.repository.transport.Tls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** How to reach the repository and the keys to use with it; shared by every subcommand. */
public final class RepositoryOptions {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Where where;

    static final class Where {
        @Option(names = "--repository", paramLabel = "HOST:PORT",
                description = "the repository transport (TLS 1.3), e.g. backup.example:6162")
        String remote;

        @Option(names = "--repository-dir", paramLabel = "DIR",
                description = "a local directory repository on this server (no transport, no guard needed)")
        Path local;
    }

    @Option(names = "--ca-file", paramLabel = "FILE", description = "PEM CA that signed the repository's certificate")
    Path caFile;

    @Option(names = "--server-name", paramLabel = "NAME",
            description = "with --repository: the name the repository's certificate must carry, when it differs "
                    + "from the address dialled (default: the HOST of --repository)")
    String serverName;

    @Option(names = "--token-file", paramLabel = "FILE", description = "file holding this node's bearer token")
    Path tokenFile;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Keys keys;

    static final class Keys {
        @Option(names = "--key-file", paramLabel = "FILE",
                description = "repository keys (id-key, encryption-key, encryption-key-id; see README)")
        Path file;

        @Option(names = "--key-dir", paramLabel = "DIR",
                description = "repository keys as the operator's Secret mounted as files: id-key, key-N, current")
        Path dir;
    }

    @Option(names = "--min-free-mib", paramLabel = "MIB", defaultValue = "1024",
            description = "with --repository-dir: space the repository's filesystem keeps free; uploads beyond it "
                    + "are refused (default: ${DEFAULT-VALUE})")
    long minFreeMiB;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "4",
            description = "parallel connections to the repository (default: ${DEFAULT-VALUE})")
    int connections;

    public ChunkCodec codec() throws IOException {
        return new ChunkCodec(keys.file != null ? KeyFile.read(keys.file) : KeyDirectory.read(keys.dir));
    }

    Repository open(picocli.CommandLine cmd) throws IOException {
        return connector(cmd).open();
    }

    /**
     * Checks the options now and returns what opens the repository later, once per backup: the
     * DaemonSet mode must survive a repository that is down when it starts.
     */
    public RepositoryConnector connector(picocli.CommandLine cmd) throws IOException {
        if (where.local != null) {
            if (!Files.isDirectory(where.local)) {
                throw new IOException("repository directory " + where.local + " does not exist; create it (mkdir -p "
                        + where.local + ") or check the path");
            }
            if (serverName != null) {
                throw new picocli.CommandLine.ParameterException(cmd, "--server-name goes with --repository HOST:PORT,"
                        + " not with --repository-dir");
            }
            if (minFreeMiB < 0) {
                throw new picocli.CommandLine.ParameterException(cmd, "--min-free-mib must be 0 or more, got "
                        + minFreeMiB);
            }
            StoreLimits limits = new StoreLimits(StoreLimits.DEFAULT.maxNodeBytes(),
                    StoreLimits.DEFAULT.maxPointsPerNode(), minFreeMiB << 20, StoreLimits.DEFAULT.leaseTtlMillis());
            Path dir = where.local;
            return () -> {
                RepositoryStore store = new RepositoryStore(new RepositoryLayout(dir), limits);
                store.open();
                return store;
            };
        }
        if (caFile == null || tokenFile == null) {
            throw new picocli.CommandLine.ParameterException(cmd, "--repository needs --ca-file and --token-file");
        }
        return remote(cmd, where.remote, caFile, serverName, tokenFile, connections);
    }

    /**
     * What opens a connection pool to the transport at {@code remote} (HOST:PORT), checked now: the
     * address's form, the token file, the server name. Shared with the DaemonSet's repositories.
     */
    public static RepositoryConnector remote(picocli.CommandLine cmd, String remote, Path caFile, String serverName,
            Path tokenFile, int connections) throws IOException {
        int colon = remote.lastIndexOf(':');
        if (colon <= 0 || colon == remote.length() - 1) {
            throw new picocli.CommandLine.ParameterException(cmd, "--repository must be HOST:PORT, got '" + remote
                    + "'");
        }
        int port;
        try {
            port = Integer.parseInt(remote.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new picocli.CommandLine.ParameterException(cmd, "the port in --repository '" + remote
                    + "' is not a number");
        }
        if (!Files.isReadable(tokenFile)) {
            throw new IOException("token file " + tokenFile + " cannot be read; check the path and its permissions");
        }
        if (serverName != null && serverName.isBlank()) {
            throw new picocli.CommandLine.ParameterException(cmd, "--server-name must not be empty; give the DNS name "
                    + "or IP address in the repository's certificate");
        }
        String host = remote.substring(0, colon);
        String trusted = serverName != null ? serverName : host;
        int pooled = Math.max(1, connections);
        // The token is read at every open: a projected ServiceAccount token is rotated by the kubelet.
        return () -> ConnectionPool.of(new TransportClient.Endpoint(host, port, Tls.client(caFile),
                Files.readString(tokenFile).trim()).withServerName(trusted), pooled);
    }
}
