package io.blockvault.repository.transport;

import io.blockvault.repository.linux.Capabilities;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve}: runs the transport. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the transport: the repository's only network-facing process (non-root, no capabilities).")
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--root", required = true, description = "Repository root directory.")
    Path root;

    @Option(names = "--listen", defaultValue = "0.0.0.0", description = "Address to bind (default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--port", defaultValue = "6162", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any).")
    int port;

    @Option(names = "--tls-cert", required = true, description = "PEM certificate chain of the server.")
    Path tlsCert;

    @Option(names = "--tls-key", required = true, description = "PEM PKCS#8 private key of the server.")
    Path tlsKey;

    @Option(names = "--token-file", description = "Root-owned file of tokens (token node:<name>|operator [expires=...]).")
    Path tokenFile;

    @Option(names = "--tokenreview-server", description = "Kubernetes API server URL for TokenReview.")
    String tokenReviewServer;

    @Option(names = "--tokenreview-ca", description = "CA bundle (PEM) of the API server.")
    Path tokenReviewCa;

    @Option(names = "--tokenreview-credentials", description = "File with the bearer token this repository uses "
            + "to call TokenReview (its own ServiceAccount token).")
    Path tokenReviewCredentials;

    @Option(names = "--audience", defaultValue = "blockvault-repository",
            description = "Audience tokens must carry (default ${DEFAULT-VALUE}).")
    String audience;

    @Option(names = "--agent-serviceaccount", defaultValue = "system:serviceaccount:blockvault-system:blockvault-agent",
            description = "Username of node agents' ServiceAccount (default ${DEFAULT-VALUE}).")
    String agentServiceAccount;

    @Option(names = "--operator-serviceaccount",
            defaultValue = "system:serviceaccount:blockvault-system:blockvault-operator",
            description = "Username of the operator's ServiceAccount (default ${DEFAULT-VALUE}).")
    String operatorServiceAccount;

    @Option(names = "--max-frame-bytes", defaultValue = "" + Protocol.DEFAULT_MAX_FRAME)
    int maxFrameBytes;

    @Option(names = "--max-connections", defaultValue = "64",
            description = "Authenticated connections open at once (default ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-connections-per-identity", defaultValue = "32",
            description = "Authenticated connections of one node or the operator (default ${DEFAULT-VALUE}).")
    int maxConnectionsPerIdentity;

    @Option(names = "--max-unauthenticated-connections",
            defaultValue = "" + TransportConfig.DEFAULT_MAX_UNAUTHENTICATED,
            description = "Connections still in the TLS handshake, HELLO or authentication, from anyone "
                    + "(default ${DEFAULT-VALUE}); separate from --max-connections, so peers without a token "
                    + "never take an authenticated client's slot. Beyond it new connections are closed at once.")
    int maxUnauthenticated;

    @Option(names = "--max-unauthenticated-connections-per-address",
            defaultValue = "" + TransportConfig.DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS,
            description = "Of those, from one source address (default ${DEFAULT-VALUE}); a node's connection pool "
                    + "opens its connections at once, so keep it at least the pool size.")
    int maxUnauthenticatedPerAddress;

    @Option(names = "--handshake-timeout-millis", defaultValue = "10000",
            description = "Time a connection has in total for the TLS handshake, HELLO and authentication "
                    + "(default ${DEFAULT-VALUE}); the connection is closed at this deadline however slowly "
                    + "it sends.")
    int handshakeTimeoutMillis;

    @Option(names = "--max-lease-bytes-per-node", defaultValue = "" + StoreLimits.DEFAULT_MAX_LEASE_BYTES_PER_NODE,
            description = "Bytes of leases (ids a running backup was told exist) one node may hold "
                    + "(default ${DEFAULT-VALUE}); they also count against --node-quota-bytes.")
    long maxLeaseBytesPerNode;

    @Option(names = "--max-lease-files-per-node", defaultValue = "" + StoreLimits.DEFAULT_MAX_LEASE_FILES_PER_NODE,
            description = "Lease files (one per lack check that found chunks) one node may hold "
                    + "(default ${DEFAULT-VALUE}).")
    int maxLeaseFilesPerNode;

    @Option(names = "--node-quota-bytes", defaultValue = "" + Long.MAX_VALUE,
            description = "Bytes one node may make the repository store: new chunks and restore point indexes, "
                    + "and while they exist its leases and the indexes it is committing.")
    long nodeQuotaBytes;

    @Option(names = "--max-points-per-node", defaultValue = "100000")
    int maxPointsPerNode;

    @Option(names = "--min-free-bytes", defaultValue = "1073741824",
            description = "Free space the filesystem keeps; uploads beyond it are refused.")
    long minFreeBytes;

    /**
     * What is wrong with the choice of authentication, if anything: exactly one of a token file and
     * TokenReview, the latter with its CA and credentials. Public so that whoever writes a command line
     * for this (the operator's StatefulSet) can check it the same way.
     */
    public Optional<String> authenticationProblem() {
        if ((tokenFile == null) == (tokenReviewServer == null)) {
            return Optional.of("choose exactly one of --token-file and --tokenreview-server");
        }
        if (tokenReviewServer != null && (tokenReviewCa == null || tokenReviewCredentials == null)) {
            return Optional.of("--tokenreview-server needs --tokenreview-ca and --tokenreview-credentials");
        }
        if (tokenReviewServer != null && !tokenReviewServer.startsWith("https://")) {
            return Optional.of("--tokenreview-server must be an https:// URL, got '" + tokenReviewServer + "'");
        }
        return Optional.empty();
    }

    /**
     * What is wrong with the connection and storage limits, if anything, naming the option. Public for
     * the same reason as {@link #authenticationProblem()}.
     */
    public Optional<String> limitsProblem() {
        record Limit(String option, long value, long min) {
        }
        for (Limit l : new Limit[] {new Limit("--max-frame-bytes", maxFrameBytes, 4096 + 1),
                new Limit("--max-connections", maxConnections, 1),
                new Limit("--max-connections-per-identity", maxConnectionsPerIdentity, 1),
                new Limit("--max-unauthenticated-connections", maxUnauthenticated, 1),
                new Limit("--max-unauthenticated-connections-per-address", maxUnauthenticatedPerAddress, 1),
                new Limit("--handshake-timeout-millis", handshakeTimeoutMillis, 100),
                new Limit("--node-quota-bytes", nodeQuotaBytes, 1),
                new Limit("--max-points-per-node", maxPointsPerNode, 1),
                new Limit("--min-free-bytes", minFreeBytes, 0),
                new Limit("--max-lease-bytes-per-node", maxLeaseBytesPerNode, 4096),
                new Limit("--max-lease-files-per-node", maxLeaseFilesPerNode, 1)}) {
            if (l.value() < l.min()) {
                return Optional.of(l.option() + " must be at least " + l.min() + ", got " + l.value());
            }
        }
        if (maxUnauthenticatedPerAddress > maxUnauthenticated) {
            return Optional.of("--max-unauthenticated-connections-per-address (" + maxUnauthenticatedPerAddress
                    + ") must not exceed --max-unauthenticated-connections (" + maxUnauthenticated + ")");
        }
        return Optional.empty();
    }

    @Override
    public Integer call() throws Exception {
        System.Logger log = System.getLogger("blockvault.transport");
        int euid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (euid == 0) {
            System.err.println("error: the transport refuses to run as root: it is the network-facing process and must "
                    + "not be able to change locked files. Run it as an unprivileged user (e.g. 'blockvault') with no "
                    + "capabilities.");
            return 1;
        }
        Capabilities caps = Capabilities.ofThisProcess();
        if (!caps.isEmpty()) {
            System.err.println("error: the transport runs with capabilities " + caps.beyond(0) + "; start it with none "
                    + "(e.g. setpriv --inh-caps=-all --bounding-set=-all, or drop them in the container spec).");
            return 1;
        }
        Optional<String> problem = authenticationProblem().or(this::limitsProblem);
        if (problem.isPresent()) {
            System.err.println("error: " + problem.get());
            return 2;
        }
        Authenticator auth = tokenFile != null ? new FileTokenAuthenticator(tokenFile, Clock.systemUTC(), true)
                : new TokenReviewAuthenticator(java.net.URI.create(tokenReviewServer), Tls.client(tokenReviewCa),
                        tokenReviewCredentials, audience, agentServiceAccount, operatorServiceAccount);
        RepositoryStore store = new RepositoryStore(new RepositoryLayout(root),
                new StoreLimits(nodeQuotaBytes, maxPointsPerNode, minFreeBytes, 24L * 3600_000, maxLeaseBytesPerNode,
                        maxLeaseFilesPerNode));
        store.open();
        TransportConfig config = new TransportConfig(InetAddress.getByName(listen), port, maxFrameBytes, maxConnections,
                maxConnectionsPerIdentity, handshakeTimeoutMillis, 120_000, 64L << 20, maxUnauthenticated,
                maxUnauthenticatedPerAddress);
        TransportServer server = new TransportServer(config, Tls.server(tlsCert, tlsKey), auth, store, log);
        server.start();
        System.out.println("listening " + server.port());
        System.out.flush();
        new CountDownLatch(1).await();
        return 0;
    }
}
