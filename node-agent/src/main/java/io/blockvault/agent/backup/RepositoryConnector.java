package io.blockvault.agent.backup;

import io.blockvault.repository.client.Repository;
import java.io.IOException;

/** Opens the repository for one backup (a connection pool, or a local directory store). */
@FunctionalInterface
public interface RepositoryConnector {

    Repository open() throws IOException;
}
