package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupRepositoryStatus;
import io.blockvault.operator.connection.RepositoryConnector;
import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.metrics.RepositoryMetrics;
import io.blockvault.operator.status.Conditions;
import io.blockvault.repository.client.TransportClient;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * One look at a repository as the operator: connect with its token, ask for the figures, close.
 * Either {@code identity} is set (it worked) or {@code failure} says why not.
 */
record RepositoryCheck(String repository, Optional<String> identity,
        Optional<RepositoryUnavailableException> failure) {

    static RepositoryCheck run(RepositoryConnector connector, BackupRepository repository, RepositoryMetrics metrics) {
        String name = repository.getMetadata().getName();
        try (TransportClient client = connector.connect(repository)) {
            String identity = client.identity();
            metrics.up(name, new RepositoryMetrics.Figures(Double.NaN, Double.NaN, Double.NaN, Double.NaN, false));
            return new RepositoryCheck(name, Optional.of(identity), Optional.empty());
        } catch (RepositoryUnavailableException e) {
            metrics.down(name);
            return new RepositoryCheck(name, Optional.empty(), Optional.of(e));
        } catch (IOException e) {
            // Only close() throws here, after the work was done.
            metrics.down(name);
            return new RepositoryCheck(name, Optional.empty(), Optional.of(new RepositoryUnavailableException(
                    RepositoryUnavailableException.UNREACHABLE, e.getMessage(), e)));
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
        String message = "connected as " + identity.orElseThrow();
        conditions.set(Conditions.READY, true, "Connected", message)
                .set(Conditions.PROGRESSING, false, managed ? "Deployed" : "Connected", managed
                        ? "the repository is deployed and answers" : "nothing to deploy")
                .set(Conditions.DEGRADED, false, "AsExpected", "the repository answers");
    }

    /** The status after {@code check} (null when none ran): figures of a failed check stay as last known. */
    static BackupRepositoryStatus status(RepositoryCheck check, BackupRepositoryStatus old, Long generation,
            String endpoint, Integer immutabilityDays, List<Condition> conditions) {
        return new BackupRepositoryStatus(generation, endpoint, immutabilityDays,
                old == null ? null : old.capacityBytes(), old == null ? null : old.usedBytes(),
                old == null ? null : old.dedupRatio(), old == null ? null : old.restorePoints(), conditions);
    }
}
