package io.blockvault.repository.transport;

import io.blockvault.repository.client.RepositoryException;

/** Turns a bearer token into an identity, or refuses it with {@code UNAUTHENTICATED}. */
public interface Authenticator {

    Identity authenticate(String token) throws RepositoryException;
}
