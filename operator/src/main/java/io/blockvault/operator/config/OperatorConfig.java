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

    /** Name of the Lease the operator replicas compete for. */
    @WithDefault("blockvault-operator-leader")
    String leaseName();
}
