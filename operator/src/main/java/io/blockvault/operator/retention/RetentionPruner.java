package io.blockvault.operator.retention;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.status.Conditions;
import io.blockvault.operator.status.EventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * A policy's retention: prunes the repository's restore points of the policy's devices with
 * {@link GfsRetention}, at most once per {@code blockvault.operator.retention-interval} per policy.
 *
 * <p>Which points are the policy's: the repository groups points by (node, device stable id) as
 * the agent records them. A group belongs to the policy when a Backup of the policy (spec.policy,
 * for one of its current device selectors, in its repository) names one of the group's points in
 * {@code status.restorePointId}; the whole group (older points whose Backup objects are gone
 * included) is then pruned. A group that a Backup of another policy or an on-demand Backup also
 * names is shared and left alone (reported). A group no Backup of the policy names is not touched.
 *
 * <p>Never deleted: a point any rule keeps, the newest point of a group, a point that is locked or
 * not yet sealed by the repository's guard (kept and reported with its lock end). Asking twice for
 * the same deletion is harmless (the guard deletes within its next cycle), and each point is counted
 * once per operator process.
 */
public class RetentionPruner {

    /** Condition type on the policy: whether the last retention pass worked. */
    public static final String CONDITION = "RetentionApplied";
    private static final Logger LOG = Logger.getLogger(RetentionPruner.class);

    private final RestorePointCatalog catalog;
    private final RepositoryMetrics metrics;
    private final Duration interval;
    private final Map<String, Instant> nextPass = new ConcurrentHashMap<>();
    private final Set<String> counted = ConcurrentHashMap.newKeySet();

    public RetentionPruner(RestorePointCatalog catalog, RepositoryMetrics metrics, Duration interval) {
        this.catalog = catalog;
        this.metrics = metrics;
        this.interval = interval;
    }

    /** What one pass did. */
    public record Pass(int deleted, int keptLocked, Optional<Instant> firstUnlock, int groups, List<String> shared) {

        String describe(Instant now) {
            StringBuilder s = new StringBuilder("retention pass at " + now + ": " + groups + " (node, device) groups, "
                    + "asked the repository to delete " + deleted + " restore points, kept " + keptLocked
                    + " that are still immutable");
            firstUnlock.ifPresent(u -> s.append(" (the first lock ends at ").append(u).append(')'));
            if (!shared.isEmpty()) {
                s.append("; skipped devices other Backups also write to: ").append(String.join(", ", shared));
            }
            return s.toString();
        }
    }

    /**
     * Runs a pass when one is due and records its outcome in {@code conditions} and Events; else
     * keeps the previous condition. Policies without {@code spec.retention} keep every point.
     */
    public void reconcile(BackupPolicy policy, KubernetesClient client, Conditions conditions, EventRecorder events,
            Instant now) {
        String name = policy.getMetadata().getName();
        if (policy.getSpec().retention() == null) {
            nextPass.remove(name);
            return;
        }
        Instant due = nextPass.get(name);
        if (due != null && now.isBefore(due)) {
            conditions.keep(CONDITION);
            return;
        }
        nextPass.put(name, now.plus(interval));
        try {
            Pass pass = prune(policy, client, now);
            String message = pass.describe(now);
            conditions.set(CONDITION, true, "Pruned", message);
            if (pass.deleted() > 0 || pass.keptLocked() > 0) {
                events.normal(policy, "RetentionApplied", now.toString(), message, now);
            }
            if (!pass.shared().isEmpty()) {
                events.warning(policy, "RetentionSkippedSharedDevice", String.join(",", pass.shared()), "restore "
                        + "points of " + String.join(", ", pass.shared()) + " are also written by Backups of other "
                        + "policies or on-demand Backups; retention leaves them alone: let one policy own a device "
                        + "in a repository", now);
            }
        } catch (RepositoryUnavailableException e) {
            String message = "retention could not run: " + e.getMessage() + "; nothing was deleted, it is tried again "
                    + "in " + interval;
            conditions.set(CONDITION, false, e.reason(), message);
            events.warning(policy, e.reason(), "retention", message, now);
        } catch (IllegalArgumentException | java.time.DateTimeException e) {
            conditions.set(CONDITION, false, "InvalidRetention", "spec.retention: " + e.getMessage());
        }
    }

    /** Forgets a deleted policy. */
    public void forget(String policy) {
        nextPass.remove(policy);
    }

    /** One retention pass over the policy's restore points; see the class comment. */
    Pass prune(BackupPolicy policy, KubernetesClient client, Instant now) throws RepositoryUnavailableException {
        BackupPolicySpec spec = policy.getSpec();
        GfsRetention gfs = retention(spec);
        String repository = spec.repository();
        List<Backup> backups = client.resources(Backup.class).list().getItems().stream()
                .filter(b -> b.getSpec() != null && repository.equals(b.getSpec().repository()))
                .filter(b -> b.getStatus() != null && b.getStatus().restorePointId() != null).toList();
        try (RestorePointCatalog.Session session = catalog.open(repository)) {
            List<CatalogPoint> points = session.list();
            Map<String, List<CatalogPoint>> groups = points.stream().collect(Collectors.groupingBy(
                    RetentionPruner::group, LinkedHashMap::new, Collectors.toList()));
            Map<String, CatalogPoint> byRef = points.stream().collect(Collectors.toMap(CatalogPoint::toString,
                    Function.identity(), (a, b) -> a));
            Set<String> devices = spec.devices().stream().map(BackupPolicySpec.DeviceSelector::path)
                    .collect(Collectors.toSet());
            Set<String> owned = new TreeSet<>();
            Set<String> foreign = new TreeSet<>();
            for (Backup b : backups) {
                CatalogPoint p = byRef.get(b.getSpec().nodeName() + "/" + b.getStatus().restorePointId());
                if (p == null) {
                    continue;
                }
                if (policy.getMetadata().getName().equals(b.getSpec().policy())) {
                    if (devices.contains(b.getSpec().device())) {
                        owned.add(group(p));
                    }
                } else {
                    foreign.add(group(p));
                }
            }
            List<String> shared = owned.stream().filter(foreign::contains).map(g -> g.replace('\n', ':')).toList();
            int deleted = 0;
            int locked = 0;
            Optional<Instant> firstUnlock = Optional.empty();
            for (String group : owned) {
                if (foreign.contains(group)) {
                    continue;
                }
                List<CatalogPoint> ofGroup = groups.get(group);
                Map<String, CatalogPoint> byId = ofGroup.stream().collect(Collectors.toMap(CatalogPoint::id,
                        Function.identity()));
                CatalogPoint newest = ofGroup.stream().max(Comparator.comparing(CatalogPoint::startedAt)
                        .thenComparing(CatalogPoint::id)).orElseThrow();
                for (RestorePoint r : gfs.notKept(ofGroup.stream().map(CatalogPoint::forRetention).toList())) {
                    CatalogPoint p = byId.get(r.id());
                    if (p == newest) {
                        continue; // GFS with any rule keeps it anyway; never risk the only recent point
                    }
                    Optional<Instant> until = Optional.empty();
                    boolean isLocked = p.lockedAt(now);
                    if (isLocked) {
                        until = p.lockedUntil();
                    } else {
                        RestorePointCatalog.DeleteResult result = session.delete(p.node(), p.id());
                        switch (result.outcome()) {
                            case DELETED -> {
                                if (counted.add(repository + "/" + p + "/deleted")) {
                                    deleted++;
                                }
                                LOG.debugf("retention of policy %s: %s", policy.getMetadata().getName(),
                                        result.message());
                            }
                            case LOCKED -> {
                                isLocked = true;
                                until = result.lockedUntil();
                            }
                            case NOT_FOUND -> {
                                // gone already: nothing to do
                            }
                            default -> throw new IllegalStateException("unknown outcome " + result.outcome());
                        }
                    }
                    if (isLocked) {
                        locked++;
                        if (until.isPresent() && (firstUnlock.isEmpty() || until.get().isBefore(firstUnlock.get()))) {
                            firstUnlock = until;
                        }
                        if (counted.add(repository + "/" + p + "/locked")) {
                            metrics.retentionLocked(repository, 1);
                        }
                    }
                }
            }
            metrics.retentionDeleted(repository, deleted);
            return new Pass(deleted, locked, firstUnlock, owned.size() - shared.size(), shared);
        }
    }

    private static String group(CatalogPoint p) {
        return p.node() + "\n" + p.device();
    }

    static GfsRetention retention(BackupPolicySpec spec) {
        BackupPolicySpec.Retention r = spec.retention();
        ZoneId zone = spec.timeZone() == null ? ZoneOffset.UTC : ZoneId.of(spec.timeZone());
        return new GfsRetention(n(r.keepLast()), n(r.keepDaily()), n(r.keepWeekly()), n(r.keepMonthly()),
                n(r.keepYearly()), zone);
    }

    private static int n(Integer value) {
        return Objects.requireNonNullElse(value, 0);
    }
}
