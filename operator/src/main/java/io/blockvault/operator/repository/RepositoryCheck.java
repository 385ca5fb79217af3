package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupRepositoryStatus;
import io.blockvault.operator.connection.RepositoryConnector;
import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.status.Conditions;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.TransportClient;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * One look at a repository as the operator: connect with its token, ask for its figures (STATS),
 * close. Either {@code stats} is set (it worked) or {@code failure} says why not.
 */
record RepositoryCheck(String repository, String identity, Optional<RepositoryStats> stats,
        Optional<RepositoryUnavailableException> failure) {

    /** Reason of Degraded while the repository's guard reports a clock problem. */
    static final String CLOCK_WARNING = "GuardClockWarning";
    /** Reason of Degraded while the repository's guard has frozen its clock and deletes nothing. */
    static final String CLOCK_FROZEN = "GuardClockFrozen";

    static RepositoryCheck run(RepositoryConnector connector, BackupRepository repository, RepositoryMetrics metrics) {
        String name = repository.getMetadata().getName();
        RepositoryConnector.Target target = null;
        try {
            target = connector.target(repository);
            try (TransportClient client = connector.connect(target)) {
                RepositoryStats stats = client.stats();
                metrics.up(name, new RepositoryMetrics.Figures(stats.capacityBytes(), stats.usedBytes(),
                        stats.restorePoints(), stats.dedupRatio(), stats.clockWarning().isPresent(),
                        stats.clockFrozen().isPresent()));
                return new RepositoryCheck(name, client.identity(), Optional.of(stats), Optional.empty());
            }
        } catch (RepositoryUnavailableException e) {
            metrics.down(name);
            return new RepositoryCheck(name, null, Optional.empty(), Optional.of(e));
        } catch (IOException e) {
            metrics.down(name);
            return new RepositoryCheck(name, null, Optional.empty(), Optional.of(RepositoryConnector.failure(target,
                    "read the figures of", e)));
        }
    }

    /** Ready/Progressing/Degraded from this check; {@code managed} words Progressing for a deployment. */
    void setConditions(Conditions conditions, boolean managed) {
        if (failure.isPresent()) {
            RepositoryUnavailableException e = failure.get();
            conditions.set(Conditions.READY, false, e.reason(), e.getMessage())
                    .set(Conditions.PROGRESSING, false, e.reason(), "waiting for the repository to answer")
                    .set(Conditions.DEGRADED, true, e.reason(), e.getMessage());
            return;
        }
        RepositoryStats st = stats.orElseThrow();
        String message = "connected as " + identity + ": " + st.restorePoints() + " restore points (" + st.sealedPoints()
                + " sealed by the guard), " + st.usedBytes() + " of " + st.capacityBytes() + " bytes used, dedup ratio "
                + round(st.dedupRatio());
        conditions.set(Conditions.READY, true, "Connected", message)
                .set(Conditions.PROGRESSING, false, managed ? "Deployed" : "Connected", managed
                        ? "the repository is deployed and answers" : "nothing to deploy");
        if (st.clockFrozen().isPresent()) {
            conditions.set(Conditions.DEGRADED, true, CLOCK_FROZEN, "the repository's guard froze its trusted clock "
                    + st.clockFrozen().get() + "; it seals new backups but deletes nothing (retention waits) until "
                    + "root on the repository host checks the clock and runs blockvault-repository clock-accept");
        } else if (st.clockWarning().isPresent()) {
            conditions.set(Conditions.DEGRADED, true, CLOCK_WARNING, "the repository's guard reports: "
                    + st.clockWarning().get() + "; locks follow the guard's trusted clock, check the repository node's "
                    + "time synchronisation");
        } else {
            conditions.set(Conditions.DEGRADED, false, "AsExpected", "the repository answers");
        }
    }

    /** The status after {@code check} (null when none ran): figures of a failed check stay as last known. */
    static BackupRepositoryStatus status(RepositoryCheck check, BackupRepositoryStatus old, Long generation,
            String endpoint, Integer immutabilityDays, List<Condition> conditions) {
        if (check == null || check.stats().isEmpty()) {
            return new BackupRepositoryStatus(generation, endpoint, immutabilityDays,
                    old == null ? null : old.capacityBytes(), old == null ? null : old.usedBytes(),
                    old == null ? null : old.dedupRatio(), old == null ? null : old.restorePoints(), conditions);
        }
        RepositoryStats st = check.stats().get();
        return new BackupRepositoryStatus(generation, endpoint, immutabilityDays, st.capacityBytes(), st.usedBytes(),
                round(st.dedupRatio()), st.restorePoints(), conditions);
    }

    /** Two decimals: enough to read, and the status does not churn on the fifth one. */
    static double round(double ratio) {
        return Math.round(ratio * 100) / 100.0;
    }
}
