package io.blockvault.operator.retention;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * The catalog until the repository client is wired in: every call fails with a message that says
 * so. A {@link DefaultBean}, so the real implementation replaces it by merely existing.
 */
@DefaultBean
@ApplicationScoped
public class UnavailableRestorePointCatalog implements RestorePointCatalog {

    static final String MESSAGE = "this operator build cannot reach repositories yet (the repository client is not "
            + "wired in); restore points are neither listed nor deleted, nothing is lost";

    @Override
    public List<RestorePoint> list(String repository, String nodeName, String device) throws CatalogException {
        throw new CatalogException(MESSAGE);
    }

    @Override
    public DeleteOutcome delete(String repository, String restorePointId) throws CatalogException {
        throw new CatalogException(MESSAGE);
    }
}
