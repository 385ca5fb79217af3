package io.blockvault.operator.backup;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.metrics.BackupMetrics;
import io.blockvault.operator.retention.RestorePointCatalog;
import io.blockvault.operator.retention.UnavailableRestorePointCatalog;
import io.blockvault.operator.status.Conditions;
import io.blockvault.operator.status.EventRecorder;
import io.blockvault.operator.status.StatusApply;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The operator's part of a Backup: the agent runs it and owns its progress; the operator fails it
 * when the node is lost or the agent stays silent, keeps metrics, and holds a finalizer so that the
 * restore point can be deleted with the object when the user asks for that.
 *
 * <p>Field ownership: the timeout is written by {@link TimeoutFailure} (its own field manager,
 * forced, only if the agent has not written since), with the conditions {@code Ready} and
 * {@code Degraded}: a failed Backup is final, and an agent that comes back must not resurrect it.
 */
@ControllerConfiguration(name = BackupReconciler.NAME)
public class BackupReconciler implements Reconciler<Backup>, Cleaner<Backup> {

    public static final String NAME = "backup";
    public static final String DELETION_FIELD_MANAGER = "blockvault-operator-deletion";
    /** Owns {@code status.immutableUntil}: the lock the repository's guard set on the point. */
    public static final String IMMUTABILITY_FIELD_MANAGER = "blockvault-operator-immutability";
    /** How soon to look again while the guard has not sealed a new point yet. */
    static final Duration SEAL_RETRY = Duration.ofSeconds(15);
    /** Condition type while a requested restore point deletion waits (False, with the reason). */
    public static final String DELETION_CONDITION = "RestorePointDeleted";
    static final Duration UNAVAILABLE_RETRY = Duration.ofMinutes(1);
    static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(BackupReconciler.class);

    private final OperatorSettings settings;
    private final Clock clock;
    private final BackupMetrics metrics;
    private final RestorePointCatalog catalog;
    private final PointLocks pointLocks;

    public BackupReconciler(OperatorSettings settings, Clock clock, BackupMetrics metrics,
            RestorePointCatalog catalog) {
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        this.catalog = catalog;
        this.pointLocks = new PointLocks(catalog, clock);
    }

    @Override
    public UpdateControl<Backup> reconcile(Backup backup, Context<Backup> context) {
        metrics.observe(backup);
        BackupPhase phase = backup.getStatus() == null ? null : backup.getStatus().phase();
        if (phase == BackupPhase.Succeeded) {
            return recordImmutability(backup, context.getClient());
        }
        if (phase == BackupPhase.Failed) {
            return UpdateControl.noUpdate();
        }
        Instant now = clock.instant();
        KubernetesClient client = context.getClient();
        Optional<Node> node = Optional.ofNullable(client.nodes().withName(backup.getSpec().nodeName()).get());
        AgentTimeouts.Verdict verdict = AgentTimeouts.evaluate(AgentTimeouts.Work.of(backup), node, now, settings);
        if (verdict.timeout().isEmpty()) {
            return UpdateControl.<Backup>noUpdate().rescheduleAfter(verdict.recheckAfter().orElseThrow());
        }
        AgentTimeouts.Timeout timeout = verdict.timeout().get();
        var conditions = Conditions.after(null, backup.getMetadata().getGeneration(), now)
                .set(Conditions.READY, false, timeout.reason(), timeout.message())
                .set(Conditions.DEGRADED, true, timeout.reason(), timeout.message())
                .build();
        if (!TimeoutFailure.apply(client, backup, timeout, conditions, now)) {
            // The agent wrote since this copy was read: judge again on the new state (its event follows).
            return UpdateControl.<Backup>noUpdate().rescheduleAfter(CONFLICT_RETRY);
        }
        new EventRecorder(client).warning(backup, timeout.reason(), "timeout", timeout.message(), now);
        LOG.infof("Backup %s failed: %s", backup.getMetadata().getName(), timeout.message());
        return UpdateControl.noUpdate();
    }

    @Override
    public DeleteControl cleanup(Backup backup, Context<Backup> context) {
        metrics.forget(backup);
        Map<String, String> annotations = backup.getMetadata().getAnnotations();
        String restorePointId = backup.getStatus() == null ? null : backup.getStatus().restorePointId();
        if (annotations == null || !"true".equals(annotations.get(Labels.DELETE_RESTORE_POINT))
                || restorePointId == null) {
            // The default: the restore point stays, retention decides about it.
            return DeleteControl.defaultDelete();
        }
        Instant now = clock.instant();
        KubernetesClient client = context.getClient();
        EventRecorder events = new EventRecorder(client);
        String node = backup.getSpec().nodeName();
        String point = node + "/" + restorePointId;
        try (RestorePointCatalog.Session session = catalog.open(backup.getSpec().repository())) {
            RestorePointCatalog.DeleteResult result = session.delete(node, restorePointId);
            if (result.outcome() != RestorePointCatalog.DeleteOutcome.LOCKED) {
                events.normal(backup, "RestorePointDeleted", point, "restore point " + point + " of repository "
                        + backup.getSpec().repository() + ": " + result.message(), now);
                return DeleteControl.defaultDelete();
            }
            String message = "restore point " + point + " is immutable "
                    + result.lockedUntil().map(u -> "until " + u).orElse("(the repository's guard seals it first, "
                            + "then it stays locked for the repository's immutabilityDays)")
                    + "; the Backup object is deleted once its lock ends and the point with it. To delete the "
                    + "object without the point (retention prunes it later), remove the annotation "
                    + Labels.DELETE_RESTORE_POINT + " (noticed at the next retry, within the hour)";
            applyDeletionCondition(client, backup, "RestorePointLocked", message, now);
            events.normal(backup, "RestorePointLocked", point + "/" + result.lockedUntil().map(Instant::toString)
                    .orElse("unsealed"), message, now);
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(lockRetry(result.lockedUntil(), now));
        } catch (RepositoryUnavailableException e) {
            if (RepositoryUnavailableException.NOT_FOUND.equals(e.reason())
                    || UnavailableRestorePointCatalog.REASON.equals(e.reason())) {
                // Nothing could ever delete it through this operator: the object goes, the event says so.
                events.warning(backup, "RestorePointNotDeleted", point, "restore point " + point + " was not deleted: "
                        + e.getMessage(), now);
                return DeleteControl.defaultDelete();
            }
            String message = "restore point " + point + " is not deleted yet: " + e.getMessage() + "; retried in "
                    + UNAVAILABLE_RETRY.toSeconds() + " s. To delete the object without the point (retention prunes "
                    + "it later), remove the annotation " + Labels.DELETE_RESTORE_POINT;
            applyDeletionCondition(client, backup, e.reason(), message, now);
            events.warning(backup, "RestorePointNotDeleted", point + "/" + e.reason(), message, now);
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(UNAVAILABLE_RETRY);
        }
    }

    /**
     * Copies the lock the guard set on a succeeded Backup's point into {@code status.immutableUntil}
     * (the agent cannot know it: the guard seals the point after the commit). Looks again while the
     * point waits to be sealed or the repository cannot be asked; stops when the point is gone.
     */
    private UpdateControl<Backup> recordImmutability(Backup backup, KubernetesClient client) {
        String pointId = backup.getStatus().restorePointId();
        if (pointId == null || backup.getStatus().immutableUntil() != null) {
            return UpdateControl.noUpdate();
        }
        PointLocks.Lookup lookup;
        try {
            lookup = pointLocks.lookup(backup.getSpec().repository(), backup.getSpec().nodeName(), pointId);
        } catch (RepositoryUnavailableException e) {
            if (RepositoryUnavailableException.NOT_FOUND.equals(e.reason())
                    || UnavailableRestorePointCatalog.REASON.equals(e.reason())) {
                return UpdateControl.noUpdate();
            }
            LOG.debugf("immutability of Backup %s not known yet: %s", backup.getMetadata().getName(), e.getMessage());
            return UpdateControl.<Backup>noUpdate().rescheduleAfter(UNAVAILABLE_RETRY);
        }
        switch (lookup.state()) {
            case WAITING:
                return UpdateControl.<Backup>noUpdate().rescheduleAfter(SEAL_RETRY);
            case ABSENT:
                return UpdateControl.noUpdate();
            default:
                boolean written = applyStatus(client, backup, IMMUTABILITY_FIELD_MANAGER,
                        Map.of("immutableUntil", lookup.until().orElseThrow().toString()));
                return written ? UpdateControl.noUpdate() : UpdateControl.<Backup>noUpdate().rescheduleAfter(SEAL_RETRY);
        }
    }

    /** Shortly after the lock ends when that is within the hour, else in an hour; a minute while unsealed. */
    static Duration lockRetry(Optional<Instant> lockedUntil, Instant now) {
        if (lockedUntil.isEmpty()) {
            return Duration.ofMinutes(1);
        }
        Duration untilEnd = Duration.between(now, lockedUntil.get()).plusSeconds(30);
        return untilEnd.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1)
                : untilEnd.compareTo(Duration.ofSeconds(30)) < 0 ? Duration.ofSeconds(30) : untilEnd;
    }

    /**
     * Server-side apply of the {@code RestorePointDeleted} condition only, with its own field manager:
     * the agent's and the timeout's conditions stay theirs.
     */
    private static void applyDeletionCondition(KubernetesClient client, Backup backup, String reason, String message,
            Instant now) {
        var conditions = Conditions.after(backup.getStatus().conditions(), backup.getMetadata().getGeneration(), now)
                .set(DELETION_CONDITION, false, reason, message).build();
        applyStatus(client, backup, DELETION_FIELD_MANAGER, Map.of("conditions", conditions));
    }

    /** {@link StatusApply} that logs instead of failing the reconcile; false when nothing was written. */
    private static boolean applyStatus(KubernetesClient client, Backup backup, String fieldManager,
            Map<String, Object> fields) {
        try {
            StatusApply.apply(client, backup, fieldManager, fields);
            return true;
        } catch (KubernetesClientException e) {
            // Both callers can do without: the deletion has its Event, the lock is looked up again.
            LOG.debugf("could not write %s of Backup %s: %s", fields.keySet(), backup.getMetadata().getName(),
                    e.getMessage());
            return false;
        }
    }
}
