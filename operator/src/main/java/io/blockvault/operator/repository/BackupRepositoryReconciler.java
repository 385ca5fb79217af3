package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupRepositorySpec;
import io.blockvault.api.v1alpha1.BackupRepositoryStatus;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.connection.RepositoryConnector;
import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.status.Conditions;
import io.blockvault.operator.status.ReconcileFailure;
import io.blockvault.operator.status.EventRecorder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A BackupRepository. Managed: the operator deploys it (CA and TLS Secrets, two Services, the
 * StatefulSet) and reports the in-cluster endpoint. External: it checks the CA bundle and reports the
 * given endpoint. Both: the encryption-key Secret the agents mount, and every {@code repository-check-interval} the operator
 * connects as itself and reports the repository's figures ({@link RepositoryCheck}); {@code Ready}
 * means that connection worked.
 */
@Workflow(explicitInvocation = true, dependents = {
    @Dependent(name = BackupRepositoryReconciler.CA, type = RepositoryCaSecretDependent.class,
            reconcilePrecondition = ManagedModeCondition.class),
    @Dependent(name = BackupRepositoryReconciler.TLS, type = RepositoryTlsSecretDependent.class,
            dependsOn = BackupRepositoryReconciler.CA, reconcilePrecondition = ManagedModeCondition.class),
    // Both modes: the agents of External repositories mount and encrypt with the same key Secret.
    @Dependent(name = BackupRepositoryReconciler.KEY, type = RepositoryEncryptionKeyDependent.class),
    @Dependent(name = BackupRepositoryReconciler.HEADLESS, type = RepositoryHeadlessServiceDependent.class,
            reconcilePrecondition = ManagedModeCondition.class),
    @Dependent(name = BackupRepositoryReconciler.SERVICE, type = RepositoryServiceDependent.class,
            reconcilePrecondition = ManagedModeCondition.class),
    @Dependent(name = BackupRepositoryReconciler.STATEFULSET, type = RepositoryStatefulSetDependent.class,
            dependsOn = {BackupRepositoryReconciler.TLS, BackupRepositoryReconciler.KEY,
                BackupRepositoryReconciler.HEADLESS},
            reconcilePrecondition = ManagedModeCondition.class)
})
@ControllerConfiguration(name = BackupRepositoryReconciler.NAME)
public class BackupRepositoryReconciler implements Reconciler<BackupRepository>, Cleaner<BackupRepository> {

    public static final String NAME = "backuprepository";
    static final String CA = "ca-secret";
    static final String TLS = "tls-secret";
    static final String KEY = "encryption-key-secret";
    static final String HEADLESS = "headless-service";
    static final String SERVICE = "client-service";
    static final String STATEFULSET = "statefulset";

    private final OperatorSettings settings;
    private final Clock clock;
    private final RepositoryConnector connector;
    private final RepositoryMetrics metrics;

    public BackupRepositoryReconciler(OperatorSettings settings, Clock clock, RepositoryConnector connector,
            RepositoryMetrics metrics) {
        this.settings = settings;
        this.clock = clock;
        this.connector = connector;
        this.metrics = metrics;
    }

    @Override
    public UpdateControl<BackupRepository> reconcile(BackupRepository repository, Context<BackupRepository> context) {
        Instant now = clock.instant();
        var workflow = context.managedWorkflowAndDependentResourceContext();
        workflow.put(OperatorSettings.class, settings);
        workflow.put(Clock.class, clock);
        workflow.reconcileManagedWorkflow();

        BackupRepositorySpec spec = repository.getSpec();
        BackupRepositoryStatus old = repository.getStatus();
        Conditions conditions = Conditions.after(old == null ? null : old.conditions(),
                repository.getMetadata().getGeneration(), now);
        String endpoint;
        RepositoryCheck check = null;
        if (spec.mode() == RepositoryMode.External) {
            endpoint = spec.external().endpoint();
            if (Certificates.parseCertificates(spec.external().caBundle()).isEmpty()) {
                String message = "spec.external.caBundle holds no PEM certificate; paste the CA certificate(s) that "
                        + "signed the repository's TLS certificate (-----BEGIN CERTIFICATE----- ...)";
                conditions.set(Conditions.READY, false, "InvalidCaBundle", message)
                        .set(Conditions.PROGRESSING, false, "InvalidCaBundle", message)
                        .set(Conditions.DEGRADED, true, "InvalidCaBundle", message);
                metrics.down(repository.getMetadata().getName());
            } else {
                check = RepositoryCheck.run(connector, repository, metrics);
                check.setConditions(conditions, false);
            }
        } else {
            RepositoryNames names = new RepositoryNames(repository.getMetadata().getName(), settings.namespace());
            endpoint = names.endpoint();
            StatefulSet sts = context.getSecondaryResources(StatefulSet.class).stream().findFirst().orElse(null);
            int ready = sts == null || sts.getStatus() == null || sts.getStatus().getReadyReplicas() == null ? 0
                    : sts.getStatus().getReadyReplicas();
            check = RepositoryCheck.run(connector, repository, metrics);
            // Before its pod is ready a managed repository cannot answer: that is starting, not broken.
            // A token problem is the operator's and is reported as such.
            boolean starting = ready == 0 && check.failure().map(RepositoryUnavailableException::reason)
                    .filter(r -> r.equals(RepositoryUnavailableException.UNREACHABLE)
                            || r.equals(RepositoryUnavailableException.TRUST_MISSING)).isPresent();
            if (starting) {
                String message = "StatefulSet " + settings.namespace() + "/" + names.statefulSet()
                        + " has no ready pod yet (" + check.failure().get().getMessage() + "); if this lasts, check "
                        + "its pod and the PersistentVolumeClaim data-" + names.statefulSet() + "-0";
                conditions.set(Conditions.READY, false, "RepositoryStarting", message)
                        .set(Conditions.PROGRESSING, true, "RepositoryStarting", message)
                        .set(Conditions.DEGRADED, false, "AsExpected", "all objects of the repository are in place");
            } else {
                check.setConditions(conditions, true);
            }
        }
        BackupRepositoryStatus status = RepositoryCheck.status(check, old, repository.getMetadata().getGeneration(),
                endpoint, spec.immutabilityDays(), conditions.build());
        if (old == null || old.endpoint() == null || !old.endpoint().equals(endpoint)) {
            new EventRecorder(context.getClient()).normal(repository, "EndpointSet", endpoint,
                    "repository endpoint is " + endpoint, now);
        }
        // The repository's figures are checked periodically; certificates with them, well before any
        // renewal window could be missed.
        Duration recheck = connector.access().checkInterval();
        if (status.equals(old)) {
            return UpdateControl.<BackupRepository>noUpdate().rescheduleAfter(recheck);
        }
        BackupRepository patch = new BackupRepository();
        patch.setMetadata(new ObjectMetaBuilder().withName(repository.getMetadata().getName()).build());
        patch.setStatus(status);
        return UpdateControl.patchStatus(patch).rescheduleAfter(recheck);
    }

    /**
     * A reconcile that threw (a dependent refused by the API server, say) says why on the repository,
     * keeping its last figures, and is looked at again after the check interval once JOSDK's retries
     * are spent.
     */
    @Override
    public ErrorStatusUpdateControl<BackupRepository> updateErrorStatus(BackupRepository repository,
            Context<BackupRepository> context, Exception e) {
        ReconcileFailure failure = ReconcileFailure.of(e);
        BackupRepositoryStatus old = repository.getStatus();
        Conditions conditions = failure.applyTo(Conditions.after(old == null ? null : old.conditions(),
                repository.getMetadata().getGeneration(), clock.instant()))
                .set(Conditions.PROGRESSING, false, failure.reason(), failure.message());
        BackupRepository patch = new BackupRepository();
        patch.setMetadata(new ObjectMetaBuilder().withName(repository.getMetadata().getName()).build());
        patch.setStatus(old == null
                ? new BackupRepositoryStatus(repository.getMetadata().getGeneration(), null, null, null, null, null,
                        null, conditions.build())
                : new BackupRepositoryStatus(repository.getMetadata().getGeneration(), old.endpoint(),
                        old.immutabilityDays(), old.capacityBytes(), old.usedBytes(), old.dedupRatio(),
                        old.restorePoints(), conditions.build()));
        return ErrorStatusUpdateControl.patchStatus(patch).rescheduleAfter(connector.access().checkInterval());
    }

    @Override
    public DeleteControl cleanup(BackupRepository repository, Context<BackupRepository> context) {
        // Explicit deletion of the StatefulSet, Services and certificate Secrets (a cluster's garbage
        // collector would also do it through the owner references); the encryption keys stay.
        var workflow = context.managedWorkflowAndDependentResourceContext();
        workflow.put(OperatorSettings.class, settings);
        workflow.put(Clock.class, clock);
        workflow.cleanupManageWorkflow();
        metrics.remove(repository.getMetadata().getName());
        return DeleteControl.defaultDelete();
    }
}
