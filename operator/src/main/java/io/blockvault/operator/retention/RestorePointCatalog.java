package io.blockvault.operator.retention;

import io.blockvault.operator.connection.RepositoryUnavailableException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the operator needs from a repository's restore points: list them (every node's) and ask for
 * one to be deleted. The operator never reads chunks. {@link #open} connects once for a piece of
 * work (a retention pass, one deletion); the session is closed after it.
 */
public interface RestorePointCatalog {

    /** A session with the repository of that name. */
    Session open(String repository) throws RepositoryUnavailableException;

    /** One connection to a repository. */
    interface Session extends AutoCloseable {

        /** Every restore point of the repository, of all nodes. */
        List<CatalogPoint> list() throws RepositoryUnavailableException;

        /**
         * Asks for a restore point to be deleted (the repository's guard deletes it within its next
         * cycle; asking again is harmless). {@link DeleteOutcome#LOCKED} while it is immutable.
         */
        DeleteResult delete(String node, String pointId) throws RepositoryUnavailableException;

        @Override
        void close();
    }

    enum DeleteOutcome {
        /** The deletion is recorded; the guard removes the point. */
        DELETED,
        /** There is no such point (deleted before). */
        NOT_FOUND,
        /** The point is immutable (or not yet sealed by the guard) and cannot be deleted now. */
        LOCKED
    }

    /**
     * @param outcome what happened
     * @param lockedUntil for LOCKED: when the lock ends, if the repository says (empty while the
     *     guard has not sealed the point yet)
     * @param message the repository's words
     */
    record DeleteResult(DeleteOutcome outcome, Optional<Instant> lockedUntil, String message) {
    }
}
