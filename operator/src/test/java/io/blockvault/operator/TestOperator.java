package io.blockvault.operator;

import io.blockvault.operator.backup.BackupReconciler;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.config.RepositoryAccess;
import io.blockvault.operator.connection.RepositoryConnector;
import io.blockvault.operator.connection.TransportRestorePointCatalog;
import io.blockvault.operator.metrics.BackupMetrics;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.policy.BackupPolicyReconciler;
import io.blockvault.operator.repository.BackupRepositoryReconciler;
import io.blockvault.operator.restore.RestoreReconciler;
import io.blockvault.operator.retention.RestorePointCatalog;
import io.blockvault.operator.retention.RetentionPruner;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The operator's four reconcilers in a plain Java Operator SDK {@link Operator}, exactly as QOSDK
 * registers them in production (with the repository connector, transport catalog and retention the
 * CDI producers make) but started and stopped by the test (to restart it mid-schedule), with the
 * test's clock and settings, against the real API server, as the operator ServiceAccount.
 */
public final class TestOperator implements AutoCloseable {

    private final Operator operator;
    private final MeterRegistry registry;

    private TestOperator(Operator operator, MeterRegistry registry) {
        this.operator = operator;
        this.registry = registry;
    }

    public static TestOperator start(KubernetesClient client, OperatorSettings settings, RepositoryAccess access,
            MutableClock clock) {
        MeterRegistry registry = new SimpleMeterRegistry();
        RepositoryConnector connector = new RepositoryConnector(client, access, settings.namespace());
        RestorePointCatalog catalog = new TransportRestorePointCatalog(client, connector);
        RepositoryMetrics repositoryMetrics = new RepositoryMetrics(registry);
        Operator operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        operator.register(new BackupPolicyReconciler(settings, clock, new RetentionPruner(catalog, repositoryMetrics,
                access.retentionInterval())));
        operator.register(new BackupReconciler(settings, clock, new BackupMetrics(registry, clock.instant()),
                catalog));
        operator.register(new BackupRepositoryReconciler(settings, clock, connector, repositoryMetrics));
        operator.register(new RestoreReconciler(settings, clock));
        operator.start();
        return new TestOperator(operator, registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        operator.stop();
    }
}
