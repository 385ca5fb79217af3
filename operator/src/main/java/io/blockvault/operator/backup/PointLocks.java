package io.blockvault.operator.backup;

import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.blockvault.operator.retention.CatalogPoint;
import io.blockvault.operator.retention.RestorePointCatalog;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Until when the repository keeps a restore point immutable, for {@code Backup.status.immutableUntil}.
 * One listing of a repository serves every Backup asked about within {@link #FRESH} (a tick finishes
 * many Backups at once), and a failed listing is not repeated within {@link #FAILED}, so a repository
 * that cannot be reached costs one attempt, not one per Backup.
 */
final class PointLocks {

    static final Duration FRESH = Duration.ofSeconds(10);
    static final Duration FAILED = Duration.ofMinutes(1);

    /** The point's state in the repository. */
    enum State {
        /** Sealed and locked: {@code until} says until when. */
        LOCKED,
        /** Listed but not sealed by the guard yet: ask again shortly. */
        WAITING,
        /** Not in the repository (deleted, or never there): nothing will come. */
        ABSENT
    }

    record Lookup(State state, Optional<Instant> until) {
    }

    private record Listing(Instant fetched, List<CatalogPoint> points, RepositoryUnavailableException failure) {
    }

    private final RestorePointCatalog catalog;
    private final Clock clock;
    private final Map<String, Listing> listings = new HashMap<>();

    PointLocks(RestorePointCatalog catalog, Clock clock) {
        this.catalog = catalog;
        this.clock = clock;
    }

    Lookup lookup(String repository, String node, String pointId) throws RepositoryUnavailableException {
        for (CatalogPoint p : listing(repository)) {
            if (p.node().equals(node) && p.id().equals(pointId)) {
                return p.sealed() && p.lockedUntil().isPresent() ? new Lookup(State.LOCKED, p.lockedUntil())
                        : new Lookup(State.WAITING, Optional.empty());
            }
        }
        return new Lookup(State.ABSENT, Optional.empty());
    }

    private synchronized List<CatalogPoint> listing(String repository) throws RepositoryUnavailableException {
        Instant now = clock.instant();
        Listing cached = listings.get(repository);
        if (cached != null && cached.failure() != null && cached.fetched().plus(FAILED).isAfter(now)) {
            throw cached.failure();
        }
        if (cached != null && cached.failure() == null && cached.fetched().plus(FRESH).isAfter(now)) {
            return cached.points();
        }
        try (RestorePointCatalog.Session session = catalog.open(repository)) {
            List<CatalogPoint> points = session.list();
            listings.put(repository, new Listing(now, points, null));
            return points;
        } catch (RepositoryUnavailableException e) {
            listings.put(repository, new Listing(now, List.of(), e));
            throw e;
        }
    }
}
