package io.blockvault.operator.config;

import io.blockvault.operator.metrics.BackupMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Producers for the values the reconcilers take in their constructors. */
@ApplicationScoped
public class OperatorBeans {

    @Produces
    @Singleton
    OperatorSettings settings(OperatorConfig config, KubernetesClient client) {
        return new OperatorSettings(namespace(config, client), config.agentImage(), config.dkmsImage(),
                config.repositoryImage(), config.agentServiceAccount(), config.repositoryServiceAccount(), config.operatorServiceAccount(),
                config.scheduleCheckInterval(),
                config.agentClaimTimeout(), config.agentSilenceTimeout(), config.nodeLostGrace(), config.caValidity(),
                config.serverCertValidity(), config.certRenewBefore(), config.encryptionKeyRotation());
    }

    /** The operator's namespace: the client's, which is where the dependents' informers watch. */
    static String namespace(OperatorConfig config, KubernetesClient client) {
        String clientNamespace = client.getNamespace();
        String configured = config.namespace().orElse(clientNamespace);
        if (configured == null || !configured.equals(clientNamespace)) {
            throw new IllegalStateException("blockvault.operator.namespace is '" + configured
                    + "' but the Kubernetes client works in namespace '" + clientNamespace + "'; the operator keeps "
                    + "its DaemonSets, StatefulSets and Secrets in its own namespace and watches only there: set "
                    + "quarkus.kubernetes-client.namespace (QUARKUS_KUBERNETES_CLIENT_NAMESPACE) to the same value, "
                    + "or leave blockvault.operator.namespace unset");
        }
        return configured;
    }

    /** Wall-clock time of schedules and timeouts; tests substitute a clock they move. */
    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }

    /** Backup metrics in the application's registry (Prometheus at /q/metrics). */
    @Produces
    @Singleton
    BackupMetrics backupMetrics(MeterRegistry registry, Clock clock) {
        return new BackupMetrics(registry, clock.instant());
    }

    /**
     * Only one replica reconciles at a time: a Lease in the operator's namespace. QOSDK uses this
     * bean in the profiles of {@code quarkus.operator-sdk.activate-leader-election-for-profiles}
     * (prod by default), so a developer's local run does not need the Lease.
     */
    @Produces
    @Singleton
    LeaderElectionConfiguration leaderElection(OperatorConfig config, KubernetesClient client) {
        return new LeaderElectionConfiguration(config.leaseName(), namespace(config, client));
    }
}
