package io.blockvault.operator.config;

import io.blockvault.operator.connection.RepositoryConnector;
import io.blockvault.operator.connection.TransportRestorePointCatalog;
import io.blockvault.operator.metrics.BackupMetrics;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.retention.RestorePointCatalog;
import io.blockvault.operator.retention.RetentionPruner;
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

    @Produces
    @Singleton
    RepositoryAccess repositoryAccess(OperatorConfig config) {
        return RepositoryAccess.of(config);
    }

    /** The operator's connections to repositories, as the operator's own identity. */
    @Produces
    @Singleton
    RepositoryConnector repositoryConnector(KubernetesClient client, RepositoryAccess access,
            OperatorSettings settings) {
        return new RepositoryConnector(client, access, settings.namespace());
    }

    /** Restore points through the repositories' transport; replaces the default that says it cannot. */
    @Produces
    @Singleton
    RestorePointCatalog restorePointCatalog(KubernetesClient client, RepositoryConnector connector) {
        return new TransportRestorePointCatalog(client, connector);
    }

    @Produces
    @Singleton
    RepositoryMetrics repositoryMetrics(MeterRegistry registry) {
        return new RepositoryMetrics(registry);
    }

    @Produces
    @Singleton
    RetentionPruner retentionPruner(RestorePointCatalog catalog, RepositoryMetrics metrics, RepositoryAccess access) {
        return new RetentionPruner(catalog, metrics, access.retentionInterval());
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
