package io.blockvault.operator.retention;

import io.blockvault.operator.connection.RepositoryUnavailableException;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The catalog of a build without the repository client: every call fails with a message that says
 * so instead of pretending. A {@link DefaultBean}: the transport catalog replaces it by existing.
 */
@DefaultBean
@ApplicationScoped
public class UnavailableRestorePointCatalog implements RestorePointCatalog {

    public static final String REASON = "RepositoryClientMissing";
    static final String MESSAGE = "this operator build has no repository client; restore points are neither listed "
            + "nor deleted, nothing is lost";

    @Override
    public Session open(String repository) throws RepositoryUnavailableException {
        throw new RepositoryUnavailableException(REASON, MESSAGE);
    }
}
