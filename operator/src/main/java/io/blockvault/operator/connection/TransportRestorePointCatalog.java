package io.blockvault.operator.connection;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.retention.CatalogPoint;
import io.blockvault.operator.retention.RestorePointCatalog;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.TransportClient;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Restore points through the repository's transport, as the operator identity (list all, delete). */
public final class TransportRestorePointCatalog implements RestorePointCatalog {

    private final KubernetesClient client;
    private final RepositoryConnector connector;

    public TransportRestorePointCatalog(KubernetesClient client, RepositoryConnector connector) {
        this.client = client;
        this.connector = connector;
    }

    @Override
    public Session open(String repositoryName) throws RepositoryUnavailableException {
        BackupRepository repository = client.resources(BackupRepository.class).withName(repositoryName).get();
        if (repository == null) {
            throw new RepositoryUnavailableException(RepositoryUnavailableException.NOT_FOUND, "BackupRepository '"
                    + repositoryName + "' does not exist");
        }
        RepositoryConnector.Target target = connector.target(repository);
        return new TransportSession(target, connector.connect(target));
    }

    private record TransportSession(RepositoryConnector.Target target, TransportClient connection)
            implements Session {

        @Override
        public List<CatalogPoint> list() throws RepositoryUnavailableException {
            List<PointSummary> all;
            try {
                all = connection.listPoints(Optional.empty());
            } catch (IOException e) {
                throw RepositoryConnector.failure(target, "list the restore points of", e);
            }
            List<CatalogPoint> points = new ArrayList<>(all.size());
            for (PointSummary p : all) {
                points.add(new CatalogPoint(p.ref().node(), p.ref().pointId(), p.device().stableId(), p.startedAt(),
                        p.finishedAt(), p.sealed(), p.lockedUntil()));
            }
            return points;
        }

        @Override
        public DeleteResult delete(String node, String pointId) throws RepositoryUnavailableException {
            PointRef ref;
            try {
                ref = new PointRef(node, pointId);
            } catch (IllegalArgumentException e) {
                return new DeleteResult(DeleteOutcome.NOT_FOUND, Optional.empty(), "no restore point can be named "
                        + node + "/" + pointId + ": " + e.getMessage());
            }
            try {
                Instant at = connection.requestDelete(ref);
                return new DeleteResult(DeleteOutcome.DELETED, Optional.empty(), "deletion of " + ref
                        + " recorded at " + at + "; the repository's guard removes it in its next cycle");
            } catch (RepositoryException e) {
                switch (e.reason()) {
                    case NOT_FOUND -> {
                        return new DeleteResult(DeleteOutcome.NOT_FOUND, Optional.empty(), e.getMessage());
                    }
                    case LOCKED -> {
                        return new DeleteResult(DeleteOutcome.LOCKED, lockedUntil(ref), e.getMessage());
                    }
                    default -> throw RepositoryConnector.failure(target, "delete " + ref + " in", e);
                }
            } catch (IOException e) {
                throw RepositoryConnector.failure(target, "delete " + ref + " in", e);
            }
        }

        /** The lock end the repository lists for {@code ref}: the refusal's own words are for people. */
        private Optional<Instant> lockedUntil(PointRef ref) throws RepositoryUnavailableException {
            try {
                return connection.listPoints(Optional.of(ref.node())).stream()
                        .filter(p -> p.ref().equals(ref)).findFirst().flatMap(PointSummary::lockedUntil);
            } catch (IOException e) {
                throw RepositoryConnector.failure(target, "list the restore points of", e);
            }
        }

        @Override
        public void close() {
            try {
                connection.close();
            } catch (IOException e) {
                // Closing a socket: nothing the caller could do about it.
            }
        }
    }
}
