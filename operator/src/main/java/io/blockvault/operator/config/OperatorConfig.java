package io.blockvault.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The {@code blockvault.operator.*} configuration keys; each is also an environment variable. */
@ConfigMapping(prefix = "blockvault.operator")
public interface OperatorConfig {

    /**
     * Namespace of the agent DaemonSets and repository StatefulSets: the operator's own. Defaults
     * to the namespace of the Kubernetes client (in a pod: the pod's namespace); when set, it must
     * be that namespace (set {@code quarkus.kubernetes-client.namespace} outside a cluster).
     */
    Optional<String> namespace();

    @WithDefault("ghcr.io/blockvault/node-agent:0.1.0")
    String agentImage();

    @WithDefault("ghcr.io/blockvault/node-agent:0.1.0")
    String dkmsImage();

    @WithDefault("ghcr.io/blockvault/repository:0.1.0")
    String repositoryImage();

    @WithDefault("blockvault-agent")
    String agentServiceAccount();

    @WithDefault("blockvault-repository")
    String repositoryServiceAccount();

    /** The operator's own ServiceAccount: managed repositories accept its tokens as the operator's. */
    @WithDefault("blockvault-operator")
    String operatorServiceAccount();

    @WithDefault("60s")
    Duration scheduleCheckInterval();

    @WithDefault("10m")
    Duration agentClaimTimeout();

    @WithDefault("10m")
    Duration agentSilenceTimeout();

    @WithDefault("2m")
    Duration nodeLostGrace();

    @WithDefault("3650d")
    Duration caValidity();

    @WithDefault("90d")
    Duration serverCertValidity();

    @WithDefault("30d")
    Duration certRenewBefore();

    @WithDefault("365d")
    Duration encryptionKeyRotation();

    /**
     * File holding the operator's token for repositories (re-read at each connection: projected
     * ServiceAccount tokens rotate). The Helm chart mounts a token with audience
     * {@code blockvault-repository} here.
     */
    @WithDefault("/var/run/secrets/blockvault/repository/token")
    String repositoryTokenFile();

    /**
     * host:port the operator dials instead of a repository's endpoint, still verifying the
     * certificate for the endpoint's name: for running the operator outside the cluster (a port
     * forward to one repository). Unset in a cluster.
     */
    Optional<String> repositoryConnectAddress();

    /** Limit of connecting to a repository and of waiting for each of its answers. */
    @WithDefault("15s")
    Duration repositoryTimeout();

    /** How often a repository's connection and figures are checked for its status. */
    @WithDefault("60s")
    Duration repositoryCheckInterval();

    /** How often a policy's retention lists the repository's restore points and prunes them. */
    @WithDefault("15m")
    Duration retentionInterval();

    /** Name of the Lease the operator replicas compete for. */
    @WithDefault("blockvault-operator-leader")
    String leaseName();
}
