package io.blockvault.operator.restore;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks that a Restore can run (its repository, its source Backup and its target node exist) and
 * says so in the condition {@code Degraded}; the agent on the target node executes it. Re-checked
 * every schedule-check interval while something is missing.
 *
 * <p>Field ownership (server-side apply, list-map conditions keyed by type): this reconciler's field
 * manager owns only {@code conditions[type=Degraded]}; the agent owns {@code AgentProgressing},
 * phase, progress, reason, message, startTime, completionTime and restorePointId.
 */
@ControllerConfiguration(name = RestoreReconciler.NAME)
public class RestoreReconciler implements Reconciler<Restore> {

    public static final String NAME = "restore";
    public static final String FIELD_MANAGER = "blockvault-operator";
    /** The condition types this reconciler's field manager owns; the others are the agent's. */
    static final Set<String> OWN_CONDITIONS = Set.of(Conditions.DEGRADED);
    /** The agent's condition. */
    static final String AGENT_CONDITION = "AgentProgressing";

    private final OperatorSettings settings;
    private final Clock clock;

    public RestoreReconciler(OperatorSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public UpdateControl<Restore> reconcile(Restore restore, Context<Restore> context) {
        KubernetesClient client = context.getClient();
        Optional<Problem> problem = validate(client, restore.getSpec());
        List<Condition> previous = restore.getStatus() == null ? null : restore.getStatus().conditions();
        Conditions conditions = Conditions.after(previous, restore.getMetadata().getGeneration(), clock.instant());
        if (problem.isPresent()) {
            conditions.set(Conditions.DEGRADED, true, problem.get().reason(), problem.get().message());
        } else {
            conditions.set(Conditions.DEGRADED, false, "Validated", "repository, source and target exist; the agent "
                    + "of the target node runs the restore");
        }
        List<Condition> next = conditions.build();
        if (!next.equals(own(previous))) {
            GenericKubernetesResource patch = new GenericKubernetesResource();
            patch.setApiVersion(restore.getApiVersion());
            patch.setKind(restore.getKind());
            patch.setMetadata(new ObjectMetaBuilder().withName(restore.getMetadata().getName()).build());
            patch.setAdditionalProperty("status", Map.of("conditions", next));
            // Forced: the field manager is this reconciler's alone, and the apply names only its condition.
            client.resource(patch).subresource("status").patch(new PatchContext.Builder()
                    .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(FIELD_MANAGER).withForce(true).build());
        }
        return problem.isPresent() ? UpdateControl.<Restore>noUpdate().rescheduleAfter(settings.scheduleCheckInterval())
                : UpdateControl.noUpdate();
    }

    /** The conditions of the types this reconciler owns, in order. */
    static List<Condition> own(List<Condition> conditions) {
        return conditions == null ? List.of()
                : conditions.stream().filter(c -> OWN_CONDITIONS.contains(c.getType())).toList();
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
