package io.blockvault.operator.restore;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.api.v1alpha1.RestoreStatus;
import io.blockvault.operator.backup.AgentTimeouts;
import io.blockvault.operator.backup.TimeoutFailure;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.status.Conditions;
import io.blockvault.operator.status.EventRecorder;
import io.blockvault.operator.status.StatusApply;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The operator's part of a Restore; the agent of the target node executes it. The operator checks
 * that it can run (its repository, its source Backup and its target node exist) and says so in the
 * condition {@code Degraded}, and fails an unfinished Restore whose node is lost or whose agent stays
 * silent ({@link AgentTimeouts}, the same limits as Backups).
 *
 * <p>Field ownership (server-side apply, list-map conditions keyed by type): this reconciler's field
 * manager owns only {@code conditions[type=Degraded]}; the agent owns {@code AgentProgressing},
 * phase, progress, reason, message, startTime, completionTime and restorePointId. A timeout is
 * written by {@link TimeoutFailure} (its own field manager, only if the agent has not written since),
 * which takes phase, reason, message, completionTime and {@code AgentProgressing} at that moment so
 * that they agree. A finished Restore is final: it is neither timed out nor validated again.
 */
@ControllerConfiguration(name = RestoreReconciler.NAME)
public class RestoreReconciler implements Reconciler<Restore> {

    public static final String NAME = "restore";
    public static final String FIELD_MANAGER = "blockvault-operator";
    /** The condition types this reconciler's field manager owns; the others are the agent's. */
    static final Set<String> OWN_CONDITIONS = Set.of(Conditions.DEGRADED);
    /** The agent's condition, taken over by a timeout. */
    static final String AGENT_CONDITION = "AgentProgressing";
    private static final Set<String> TIMEOUT_REASONS = Set.of(AgentTimeouts.NODE_LOST, AgentTimeouts.AGENT_SILENT);
    private static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(RestoreReconciler.class);

    private final OperatorSettings settings;
    private final Clock clock;

    public RestoreReconciler(OperatorSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public UpdateControl<Restore> reconcile(Restore restore, Context<Restore> context) {
        KubernetesClient client = context.getClient();
        Instant now = clock.instant();
        RestoreStatus status = restore.getStatus();
        List<Condition> previous = status == null ? null : status.conditions();
        AgentTimeouts.Work work = AgentTimeouts.Work.of(restore);
        Conditions conditions = Conditions.after(previous, restore.getMetadata().getGeneration(), now);
        Optional<Duration> recheck = Optional.empty();

        if (work.finished()) {
            // A Restore the agent finished has no reason; Set.of(...).contains(null) throws.
            if (status.reason() != null && TIMEOUT_REASONS.contains(status.reason())) {
                // Failed by the operator's timeout: Degraded says why (also after a restart between the two applies).
                conditions.set(Conditions.DEGRADED, true, status.reason(), status.message());
            } else if (Conditions.reason(previous, Conditions.DEGRADED) != null) {
                conditions.keep(Conditions.DEGRADED);
            } else {
                validate(client, restore.getSpec(), conditions);
            }
        } else {
            Optional<Node> node = Optional.ofNullable(restore.getSpec().target().nodeName())
                    .map(n -> client.nodes().withName(n).get());
            AgentTimeouts.Verdict verdict = AgentTimeouts.evaluate(work, node, now, settings);
            if (verdict.timeout().isPresent()) {
                AgentTimeouts.Timeout timeout = verdict.timeout().get();
                var agentCondition = Conditions.after(previous, restore.getMetadata().getGeneration(), now)
                        .set(AGENT_CONDITION, false, timeout.reason(), timeout.message()).build();
                if (!TimeoutFailure.apply(client, restore, timeout, agentCondition, now)) {
                    // The agent wrote since this copy was read: judge again on the new state (its event follows).
                    return UpdateControl.<Restore>noUpdate().rescheduleAfter(CONFLICT_RETRY);
                }
                new EventRecorder(client).warning(restore, timeout.reason(), "timeout", timeout.message(), now);
                LOG.infof("Restore %s failed: %s", restore.getMetadata().getName(), timeout.message());
                conditions.set(Conditions.DEGRADED, true, timeout.reason(), timeout.message());
            } else {
                recheck = verdict.recheckAfter();
                if (validate(client, restore.getSpec(), conditions)) {
                    recheck = Optional.of(min(recheck.orElseThrow(), settings.scheduleCheckInterval()));
                }
            }
        }

        List<Condition> next = conditions.build();
        if (!next.equals(own(previous))) {
            StatusApply.apply(client, restore, FIELD_MANAGER, Map.of("conditions", next));
        }
        return recheck.map(d -> UpdateControl.<Restore>noUpdate().rescheduleAfter(d))
                .orElseGet(UpdateControl::noUpdate);
    }

    /** The conditions of the types this reconciler owns, in order. */
    static List<Condition> own(List<Condition> conditions) {
        return conditions == null ? List.of()
                : conditions.stream().filter(c -> OWN_CONDITIONS.contains(c.getType())).toList();
    }

    /** Sets Degraded from the validation; true when something is missing (looked at again later). */
    private static boolean validate(KubernetesClient client, RestoreSpec spec, Conditions conditions) {
        Optional<Problem> problem = validate(client, spec);
        if (problem.isPresent()) {
            conditions.set(Conditions.DEGRADED, true, problem.get().reason(), problem.get().message());
        } else {
            conditions.set(Conditions.DEGRADED, false, "Validated", "repository, source and target exist; the agent "
                    + "of the target node runs the restore");
        }
        return problem.isPresent();
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Why a Restore cannot run: condition reason and the message a user reads. */
    record Problem(String reason, String message) {
    }

    /** The first problem found; empty when the Restore can run. */
    static Optional<Problem> validate(KubernetesClient client, RestoreSpec spec) {
        if (client.resources(BackupRepository.class).withName(spec.repository()).get() == null) {
            return Optional.of(new Problem("RepositoryNotFound", "BackupRepository '" + spec.repository()
                    + "' does not exist; create it or fix spec.repository"));
        }
        if (spec.source().backup() != null) {
            Backup backup = client.resources(Backup.class).withName(spec.source().backup()).get();
            if (backup == null) {
                return Optional.of(new Problem("BackupNotFound", "Backup '" + spec.source().backup()
                        + "' does not exist; name an existing Backup in spec.source.backup or give "
                        + "spec.source.restorePointId"));
            }
            if (backup.getStatus() == null || backup.getStatus().phase() != BackupPhase.Succeeded
                    || backup.getStatus().restorePointId() == null) {
                return Optional.of(new Problem("BackupNotSucceeded", "Backup '" + spec.source().backup()
                        + "' has not succeeded (phase " + (backup.getStatus() == null ? "Pending"
                                : backup.getStatus().phase()) + "), so it has no restore point; pick a succeeded one"));
            }
        }
        String node = spec.target().nodeName();
        if (node != null && client.nodes().withName(node).get() == null) {
            return Optional.of(new Problem("NodeNotFound", "Node '" + node + "' does not exist; fix "
                    + "spec.target.nodeName"));
        }
        return Optional.empty();
    }
}
