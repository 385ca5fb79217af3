package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.api.v1alpha1.BackupPolicyStatus;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.retention.RetentionPruner;
import io.blockvault.operator.schedule.CronSchedule;
import io.blockvault.operator.schedule.InvalidScheduleException;
import io.blockvault.operator.schedule.ScheduleDecision;
import io.blockvault.operator.status.Conditions;
import io.blockvault.operator.status.ReconcileFailure;
import io.blockvault.operator.status.EventRecorder;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Runs a policy's schedule: at each tick one Backup per covered (node, device selector), the one
 * agent DaemonSet of all policies ({@link AgentDaemonSet}), history limits of Backup objects,
 * retention of restore points ({@link RetentionPruner}, rate-limited), and the policy's status.
 *
 * <p>Restart safety: Backup names are deterministic and {@code status.lastScheduleTime} advances only
 * after every Backup of a tick exists, so a restart at any point re-runs the tick and creates exactly
 * the missing ones. Time comes from the injected {@link Clock}; the reconciler re-checks the schedule
 * at least every {@code blockvault.operator.schedule-check-interval}.
 */
@ControllerConfiguration(name = BackupPolicyReconciler.NAME)
public class BackupPolicyReconciler implements Reconciler<BackupPolicy>, Cleaner<BackupPolicy> {

    public static final String NAME = "backuppolicy";
    private static final Logger LOG = Logger.getLogger(BackupPolicyReconciler.class);

    private final OperatorSettings settings;
    private final Clock clock;
    private final RetentionPruner retention;

    public BackupPolicyReconciler(OperatorSettings settings, Clock clock, RetentionPruner retention) {
        this.settings = settings;
        this.clock = clock;
        this.retention = retention;
    }

    @Override
    public List<EventSource<?, BackupPolicy>> prepareEventSources(EventSourceContext<BackupPolicy> context) {
        // Backups tell the policy its per-node results; they point at their policy by spec.policy.
        var backups = InformerEventSourceConfiguration.from(Backup.class, BackupPolicy.class)
                .withName("policy-backups")
                .withLabelSelector(Labels.POLICY)
                .withSecondaryToPrimaryMapper(b -> b.getSpec() == null || b.getSpec().policy() == null ? Set.of()
                        : Set.of(new ResourceID(b.getSpec().policy())))
                .build();
        return List.of(new InformerEventSource<>(backups, context));
    }

    @Override
    public UpdateControl<BackupPolicy> reconcile(BackupPolicy policy, Context<BackupPolicy> context) {
        Instant now = clock.instant();
        KubernetesClient client = context.getClient();
        EventRecorder events = new EventRecorder(client);
        BackupPolicySpec spec = policy.getSpec();
        BackupPolicyStatus old = policy.getStatus();
        List<Condition> oldConditions = old == null ? null : old.conditions();
        Conditions conditions = Conditions.after(oldConditions, policy.getMetadata().getGeneration(), now);
        String lastScheduleTime = old == null ? null : old.lastScheduleTime();
        String nextScheduleTime = null;
        List<Backup> backups = new ArrayList<>(context.getSecondaryResources(Backup.class));
        Duration recheck = settings.scheduleCheckInterval();

        CronSchedule schedule = null;
        try {
            schedule = CronSchedule.parse(spec.schedule(), spec.timeZone());
        } catch (InvalidScheduleException e) {
            conditions.set(Conditions.READY, false, e.reason(), e.getMessage())
                    .set(Conditions.DEGRADED, true, e.reason(), e.getMessage());
            events.warning(policy, e.reason(), spec.schedule() + "/" + spec.timeZone(), e.getMessage(), now);
        }
        BackupRepository repository = schedule == null ? null
                : client.resources(BackupRepository.class).withName(spec.repository()).get();
        if (schedule != null && repository == null) {
            String message = "BackupRepository '" + spec.repository() + "' does not exist; create it or fix "
                    + "spec.repository. No backups are scheduled until it exists.";
            conditions.set(Conditions.READY, false, "RepositoryNotFound", message)
                    .set(Conditions.DEGRADED, true, "RepositoryNotFound", message);
        } else if (schedule != null) {
            Instant lastHandled = lastScheduleTime != null ? Instant.parse(lastScheduleTime)
                    : Instant.parse(policy.getMetadata().getCreationTimestamp());
            ScheduleDecision decision = ScheduleDecision.decide(schedule, lastHandled, now,
                    spec.startingDeadlineSeconds());
            boolean suspended = Boolean.TRUE.equals(spec.suspend());
            if (!suspended && decision.run().isPresent()) {
                Instant tick = decision.run().get();
                // The API, not the cache, decides what exists at a tick: a Backup created a moment
                // ago (a previous tick, or this one before a restart) may not have reached the cache.
                List<Backup> current = client.resources(Backup.class)
                        .withLabel(Labels.POLICY, Labels.value(policy.getMetadata().getName())).list().getItems()
                        .stream().filter(b -> policy.getMetadata().getName().equals(b.getSpec().policy())).toList();
                int created = createBackups(context, policy, tick, current);
                lastScheduleTime = tick.toString();
                events.normal(policy, "BackupsScheduled", tick.toString(), "Scheduled " + created
                        + " new Backup objects for the run of " + tick + " (" + schedule + ")", now);
            } else if (!suspended && decision.missed().isPresent()) {
                Instant missed = decision.missed().get();
                events.warning(policy, "MissedSchedule", missed.toString(), "The run of " + missed
                        + " was missed by more than startingDeadlineSeconds=" + spec.startingDeadlineSeconds()
                        + " (was the operator down?); it is skipped, the next run is at "
                        + decision.next().map(Instant::toString).orElse("never"), now);
            }
            nextScheduleTime = suspended ? null : decision.next().map(Instant::toString).orElse(null);
            if (!suspended && decision.next().isPresent()) {
                Duration untilNext = Duration.between(now, decision.next().get());
                if (untilNext.compareTo(recheck) < 0) {
                    recheck = untilNext.isNegative() ? Duration.ofMillis(100) : untilNext.plusMillis(10);
                }
            }
            if (suspended) {
                conditions.set(Conditions.READY, true, "Suspended", "spec.suspend is true: no new backups are "
                        + "scheduled; running ones finish");
            } else {
                conditions.set(Conditions.READY, true, "Scheduled", "schedule " + schedule + " is active");
            }
        }
        pruneHistory(client, policy, backups);
        List<BackupPolicyStatus.NodeStatus> nodes = nodeStatuses(backups);
        boolean running = backups.stream().anyMatch(b -> {
            BackupPhase p = BackupHistory.phase(b);
            return p == BackupPhase.Pending || p == BackupPhase.Running;
        });
        conditions.set(Conditions.PROGRESSING, running, running ? "BackupsRunning" : "Idle",
                running ? "backups of this policy are pending or running" : "no backup of this policy is running");
        if (schedule != null && repository != null) {
            long failed = nodes.stream().filter(n -> n.lastResult() == BackupPhase.Failed).count();
            conditions.set(Conditions.DEGRADED, failed > 0, failed > 0 ? "BackupsFailed" : "AsExpected",
                    failed > 0 ? "the latest backup of " + failed + " (node, device) pairs failed; see "
                            + "kubectl get backups -l " + Labels.POLICY + "=" + Labels.value(policy.getMetadata()
                                    .getName()) : "the latest backup of every (node, device) did not fail");
        }
        if (repository != null) {
            retention.reconcile(policy, client, conditions, events, now);
        }
        AgentDaemonSet.reconcile(client, settings);
        BackupPolicyStatus status = new BackupPolicyStatus(policy.getMetadata().getGeneration(), lastScheduleTime,
                nextScheduleTime, nodes.isEmpty() ? null : nodes, conditions.build());
        if (status.equals(old)) {
            return UpdateControl.<BackupPolicy>noUpdate().rescheduleAfter(recheck);
        }
        BackupPolicy patch = new BackupPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(policy.getMetadata().getName()).build());
        patch.setStatus(status);
        return UpdateControl.patchStatus(patch).rescheduleAfter(recheck);
    }

    /**
     * A reconcile that threw: Ready and Degraded say why, so a policy whose operator may not create its
     * Backups says so in {@code kubectl describe}, not only in the operator's log. JOSDK retries; after
     * its last retry the schedule is looked at again anyway, so a rule put back later is picked up.
     */
    @Override
    public ErrorStatusUpdateControl<BackupPolicy> updateErrorStatus(BackupPolicy policy,
            Context<BackupPolicy> context, Exception e) {
        ReconcileFailure failure = ReconcileFailure.of(e);
        BackupPolicyStatus old = policy.getStatus();
        Conditions conditions = failure.applyTo(Conditions.after(old == null ? null : old.conditions(),
                policy.getMetadata().getGeneration(), clock.instant()));
        BackupPolicy patch = new BackupPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(policy.getMetadata().getName()).build());
        patch.setStatus(new BackupPolicyStatus(policy.getMetadata().getGeneration(),
                old == null ? null : old.lastScheduleTime(), old == null ? null : old.nextScheduleTime(),
                old == null ? null : old.nodes(), conditions.build()));
        return ErrorStatusUpdateControl.patchStatus(patch).rescheduleAfter(settings.scheduleCheckInterval());
    }

    @Override
    public DeleteControl cleanup(BackupPolicy policy, Context<BackupPolicy> context) {
        retention.forget(policy.getMetadata().getName());
        // The agents stop serving it (and go with the last policy) without waiting for a garbage
        // collector; the policy, being deleted, is no longer valid.
        AgentDaemonSet.reconcile(context.getClient(), settings);
        return DeleteControl.defaultDelete();
    }

    /**
     * Creates the tick's Backups that do not exist yet, several requests at a time (on JOSDK's
     * workflow executor, idle once the dependents are reconciled); returns how many it created.
     */
    private int createBackups(Context<BackupPolicy> context, BackupPolicy policy, Instant tick,
            List<Backup> existing) {
        KubernetesClient client = context.getClient();
        BackupPolicySpec spec = policy.getSpec();
        var nodes = spec.nodeSelector() == null ? client.nodes().list().getItems()
                : client.nodes().withLabelSelector(spec.nodeSelector()).list().getItems();
        Map<String, List<Backup>> byKey = existing.stream().collect(Collectors.groupingBy(BackupPolicyReconciler::key));
        Set<String> exists = existing.stream().map(b -> b.getMetadata().getName()).collect(Collectors.toSet());
        List<Future<Boolean>> creations = new ArrayList<>();
        for (Node node : nodes) {
            String nodeName = node.getMetadata().getName();
            for (BackupPolicySpec.DeviceSelector device : spec.devices()) {
                String name = BackupNames.scheduled(policy.getMetadata().getName(), nodeName, device.path(), tick);
                if (exists.contains(name)) {
                    continue;
                }
                BackupType type = activeFullDue(spec, byKey.getOrDefault(nodeName + "\n" + device.path(), List.of()),
                        tick) ? BackupType.Full : BackupType.Auto;
                Backup backup = backup(policy, name, nodeName, device.path(), tick, type);
                creations.add(context.getWorkflowExecutorService().submit(() -> create(client, backup)));
            }
        }
        int created = 0;
        RuntimeException failure = null;
        for (Future<Boolean> creation : creations) {
            try {
                created += creation.get() ? 1 : 0;
            } catch (ExecutionException e) {
                failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating the Backups of " + tick, e);
            }
        }
        if (failure != null) {
            // The tick is retried as a whole; what exists already is skipped.
            throw failure;
        }
        return created;
    }

    private static boolean create(KubernetesClient client, Backup backup) {
        try {
            client.resource(backup).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false; // made by this tick before a restart: exactly what restart safety needs
            }
            throw e;
        }
    }

    /** Full when the policy asks for periodic active fulls and the last one (not failed) is too old. */
    static boolean activeFullDue(BackupPolicySpec spec, List<Backup> backupsOfDevice, Instant tick) {
        if (spec.activeFullIntervalDays() == null) {
            return false;
        }
        Optional<Backup> last = BackupHistory.lastFull(backupsOfDevice);
        return last.isEmpty() || !BackupHistory.scheduleTime(last.get())
                .isAfter(tick.minus(Duration.ofDays(spec.activeFullIntervalDays())));
    }

    private static Backup backup(BackupPolicy policy, String name, String node, String device, Instant tick,
            BackupType type) {
        String policyName = policy.getMetadata().getName();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
        labels.put(Labels.POLICY, Labels.value(policyName));
        labels.put(Labels.NODE, Labels.value(node));
        labels.put(Labels.DEVICE_HASH, BackupNames.deviceHash(device));
        labels.put(Labels.SCHEDULE_TIME, Long.toString(tick.getEpochSecond()));
        labels.put(Labels.TYPE, type.name());
        Backup backup = new Backup();
        backup.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(labels)
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(policy.getApiVersion())
                        .withKind(policy.getKind()).withName(policyName).withUid(policy.getMetadata().getUid())
                        .withController(true).build())
                .build());
        backup.setSpec(new BackupSpec(policyName, policy.getSpec().repository(), node, device, type));
        return backup;
    }

    private void pruneHistory(KubernetesClient client, BackupPolicy policy, List<Backup> backups) {
        BackupPolicySpec spec = policy.getSpec();
        int successful = Objects.requireNonNullElse(spec.successfulBackupsHistoryLimit(), 10);
        int failed = Objects.requireNonNullElse(spec.failedBackupsHistoryLimit(), 5);
        Map<String, List<Backup>> byKey = backups.stream().collect(Collectors.groupingBy(BackupPolicyReconciler::key));
        for (List<Backup> ofDevice : byKey.values()) {
            for (Backup old : BackupHistory.beyondLimits(ofDevice, successful, failed)) {
                LOG.debugf("deleting Backup %s beyond the history limits of policy %s", old.getMetadata().getName(),
                        policy.getMetadata().getName());
                client.resource(old).delete();
                backups.remove(old);
            }
        }
    }

    private static String key(Backup b) {
        return b.getSpec().nodeName() + "\n" + b.getSpec().device();
    }

    /** Latest state of each (node, device), sorted so that an unchanged state gives an equal status. */
    static List<BackupPolicyStatus.NodeStatus> nodeStatuses(List<Backup> backups) {
        Map<String, List<Backup>> byKey = backups.stream().collect(Collectors.groupingBy(BackupPolicyReconciler::key));
        List<BackupPolicyStatus.NodeStatus> result = new ArrayList<>();
        for (List<Backup> ofDevice : byKey.values()) {
            List<Backup> sorted = BackupHistory.newestFirst(ofDevice);
            Backup latest = sorted.get(0);
            String lastSuccess = sorted.stream().filter(b -> BackupHistory.phase(b) == BackupPhase.Succeeded)
                    .map(b -> b.getStatus().completionTime()).filter(Objects::nonNull).findFirst().orElse(null);
            BackupMode mode = latest.getStatus() == null ? null : latest.getStatus().mode();
            // The agent's word (status.moduleState of its Backup); none until it has claimed the latest.
            String moduleState = latest.getStatus() == null ? null : latest.getStatus().moduleState();
            result.add(new BackupPolicyStatus.NodeStatus(latest.getSpec().nodeName(), latest.getSpec().device(),
                    latest.getMetadata().getName(), BackupHistory.phase(latest), mode, lastSuccess, moduleState));
        }
        result.sort(Comparator.comparing(BackupPolicyStatus.NodeStatus::nodeName)
                .thenComparing(BackupPolicyStatus.NodeStatus::device));
        return result;
    }
}
