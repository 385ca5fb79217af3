package io.blockvault.operator;

import static org.awaitility.Awaitility.await;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.config.RepositoryAccess;
import io.blockvault.testing.WithKubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Each test: a clean real API server (objects of earlier tests removed), the operator's
 * ServiceAccount bound to the shipped ClusterRole, a test clock, and the operator started as that
 * ServiceAccount by {@link #startOperator()}.
 */
@WithKubeApiServer
public abstract class OperatorTestBase {

    protected final KubernetesClient admin;
    protected KubernetesClient operatorClient;
    protected MutableClock clock;
    protected OperatorSettings settings;
    /** Defaults: the token file does not exist here, so repositories report OperatorTokenMissing. */
    protected RepositoryAccess access = RepositoryAccess.defaults();
    protected TestOperator operator;

    protected OperatorTestBase(KubernetesClient admin) {
        this.admin = admin;
    }

    @BeforeEach
    void prepareCluster() {
        OperatorIdentity.install(admin);
        Fixtures.deleteAll(admin);
        clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        operatorClient = OperatorIdentity.impersonatingClient(admin);
        // The test clock jumps days ahead of the API server's creation timestamps: Backup timeouts
        // stay out of the way unless a test sets them.
        Duration never = Duration.ofDays(3650);
        settings = settings(OperatorSettings.defaults(OperatorIdentity.NAMESPACE)
                .withScheduleCheckInterval(Duration.ofMillis(300)).withTimeouts(never, never, never));
    }

    /** Settings of the operator under test; subclasses shorten what they need. */
    protected OperatorSettings settings(OperatorSettings defaults) {
        return defaults;
    }

    protected TestOperator startOperator() {
        operator = TestOperator.start(operatorClient, settings, access, clock);
        return operator;
    }

    protected void stopOperator() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    @AfterEach
    void stopAndClean() {
        stopOperator();
        Fixtures.deleteAll(admin);
        if (operatorClient != null) {
            operatorClient.close();
        }
    }

    protected BackupRepository externalRepository(String name) {
        return Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: %s
                spec:
                  mode: External
                  external:
                    endpoint: repo.example.org:6162
                    caBundle: |
                      -----BEGIN CERTIFICATE-----
                      bm90IGEgY2VydGlmaWNhdGU=
                      -----END CERTIFICATE-----
                """.formatted(name));
    }

    /** A managed repository of the default StorageClass. */
    protected BackupRepository managedRepository(String name) {
        return Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: %s
                spec:
                  mode: Managed
                  immutabilityDays: 14
                  managed:
                    storageSize: 10Gi
                """.formatted(name));
    }

    protected static ConditionFactory eventually() {
        return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions();
    }
}
