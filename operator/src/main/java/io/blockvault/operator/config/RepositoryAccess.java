package io.blockvault.operator.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the operator reaches repositories, from {@code blockvault.operator.*}; tests build it directly.
 *
 * @param tokenFile file holding the operator's token (re-read at each connection)
 * @param connectAddress host:port dialled instead of every repository's endpoint (local runs)
 * @param timeout limit of connecting and of each answer
 * @param checkInterval how often a BackupRepository's connection and figures are re-checked
 * @param retentionInterval how often one policy's retention lists and prunes restore points
 */
public record RepositoryAccess(Path tokenFile, Optional<HostPort> connectAddress, Duration timeout,
        Duration checkInterval, Duration retentionInterval) {

    public static final String DEFAULT_TOKEN_FILE = "/var/run/secrets/blockvault/repository/token";

    public RepositoryAccess {
        Objects.requireNonNull(tokenFile, "tokenFile");
        Objects.requireNonNull(connectAddress, "connectAddress");
        positive("repository-timeout", timeout);
        positive("repository-check-interval", checkInterval);
        positive("retention-interval", retentionInterval);
    }

    private static void positive(String key, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException("blockvault.operator." + key + " must be positive, was " + value);
        }
    }

    public static RepositoryAccess of(OperatorConfig config) {
        return new RepositoryAccess(Path.of(config.repositoryTokenFile()),
                config.repositoryConnectAddress().filter(a -> !a.isBlank())
                        .map(a -> HostPort.parse("blockvault.operator.repository-connect-address", a)),
                config.repositoryTimeout(), config.repositoryCheckInterval(), config.retentionInterval());
    }

    /** The defaults of {@code application.properties}, for tests. */
    public static RepositoryAccess defaults() {
        return new RepositoryAccess(Path.of(DEFAULT_TOKEN_FILE), Optional.empty(), Duration.ofSeconds(15),
                Duration.ofSeconds(60), Duration.ofMinutes(15));
    }

    /** A host and a port. */
    public record HostPort(String host, int port) {

        /** Parses {@code host:port} ({@code [v6]:port} for IPv6); {@code what} names the setting in errors. */
        public static HostPort parse(String what, String text) {
            int colon = text.lastIndexOf(':');
            String host = colon < 0 ? "" : text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = colon < 0 ? -1 : Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (host.isEmpty() || port < 1 || port > 65535) {
                throw new IllegalArgumentException(what + " is '" + text + "'; expected host:port such as "
                        + "127.0.0.1:6162");
            }
            return new HostPort(host, port);
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
