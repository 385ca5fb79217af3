package io.blockvault.operator.retention;

import java.util.List;

/**
 * What the operator needs from a repository's restore points: list them and delete one. The
 * repository client library ({@code io.blockvault.repository.client}) will implement it; until then
 * {@link UnavailableRestorePointCatalog} says so instead of pretending.
 */
public interface RestorePointCatalog {

    /** The restore points of one (node, device) in a repository. */
    List<RestorePoint> list(String repository, String nodeName, String device) throws CatalogException;

    /** Deletes a restore point; answers {@link DeleteOutcome#LOCKED} while its immutability lasts. */
    DeleteOutcome delete(String repository, String restorePointId) throws CatalogException;

    enum DeleteOutcome {
        DELETED,
        NOT_FOUND,
        LOCKED
    }

    /** The repository could not be asked; the message says why and what to do. */
    class CatalogException extends Exception {
        public CatalogException(String message) {
            super(message);
        }

        public CatalogException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
