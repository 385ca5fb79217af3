package io.blockvault.operator.connection;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.blockvault.operator.config.RepositoryAccess;
import io.blockvault.operator.config.RepositoryAccess.HostPort;
import io.blockvault.operator.repository.Certificates;
import io.blockvault.operator.repository.RepositoryNames;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.TransportClient;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Opens the operator's connections to repositories: where (a managed repository's client Service,
 * or an external endpoint), whom to trust (the CA Secret the operator generated, or the spec's
 * {@code caBundle}), and the operator's token from its file. Every connection is bounded by
 * {@code blockvault.operator.repository-timeout}, so a reconcile never hangs on a repository.
 * Callers open one connection per piece of work and close it.
 */
public final class RepositoryConnector {

    private final KubernetesClient client;
    private final RepositoryAccess access;
    private final String namespace;

    public RepositoryConnector(KubernetesClient client, RepositoryAccess access, String namespace) {
        this.client = client;
        this.access = access;
        this.namespace = namespace;
    }

    public RepositoryAccess access() {
        return access;
    }

    /** Where a repository is and whom to trust for it. */
    public record Target(String repository, HostPort endpoint, HostPort dialled, List<X509Certificate> trust) {

        /** "host:port", plus the address dialled when it differs. */
        public String describe() {
            return endpoint + (dialled.equals(endpoint) ? "" : " (dialled at " + dialled + ")");
        }
    }

    /** Connects to the repository of that name; see {@link #connect(BackupRepository)}. */
    public TransportClient connect(String repositoryName) throws RepositoryUnavailableException {
        BackupRepository repository = client.resources(BackupRepository.class).withName(repositoryName).get();
        if (repository == null) {
            throw new RepositoryUnavailableException(RepositoryUnavailableException.NOT_FOUND, "BackupRepository '"
                    + repositoryName + "' does not exist");
        }
        return connect(repository);
    }

    /** An authenticated connection to {@code repository}; the caller closes it. */
    public TransportClient connect(BackupRepository repository) throws RepositoryUnavailableException {
        return connect(target(repository));
    }

    /** An authenticated connection to {@code target}; the caller closes it. */
    public TransportClient connect(Target target) throws RepositoryUnavailableException {
        String token = token();
        SSLContext tls = trust(target);
        int timeout = (int) Math.min(Integer.MAX_VALUE, access.timeout().toMillis());
        TransportClient.Endpoint endpoint = new TransportClient.Endpoint(target.dialled().host(),
                target.dialled().port(), target.endpoint().host(), tls, token, timeout, timeout);
        try {
            return TransportClient.connect(endpoint);
        } catch (IOException e) {
            throw failure(target, "connect to", e);
        }
    }

    /** The endpoint and trust of {@code repository}, without connecting. */
    public Target target(BackupRepository repository) throws RepositoryUnavailableException {
        String name = repository.getMetadata().getName();
        HostPort endpoint;
        List<X509Certificate> trust;
        if (repository.getSpec().mode() == RepositoryMode.External) {
            endpoint = HostPort.parse("spec.external.endpoint of BackupRepository " + name,
                    repository.getSpec().external().endpoint());
            trust = Certificates.parseCertificates(repository.getSpec().external().caBundle());
            if (trust.isEmpty()) {
                throw new RepositoryUnavailableException(RepositoryUnavailableException.TRUST_MISSING,
                        "spec.external.caBundle of BackupRepository " + name + " holds no PEM certificate; paste the "
                                + "CA certificate(s) that signed the repository's TLS certificate");
            }
        } else {
            RepositoryNames names = new RepositoryNames(name, namespace);
            endpoint = HostPort.parse("endpoint", names.endpoint());
            Secret ca = client.secrets().inNamespace(namespace).withName(names.caSecret()).get();
            String bundle = ca == null || ca.getData() == null || ca.getData().get("ca.crt") == null ? ""
                    : new String(Base64.getDecoder().decode(ca.getData().get("ca.crt")), StandardCharsets.US_ASCII);
            trust = Certificates.parseCertificates(bundle);
            if (trust.isEmpty()) {
                throw new RepositoryUnavailableException(RepositoryUnavailableException.TRUST_MISSING, "Secret "
                        + namespace + "/" + names.caSecret() + " has no CA certificate in ca.crt yet; the operator "
                        + "creates it with the repository, if this lasts see the operator's log");
            }
        }
        return new Target(name, endpoint, access.connectAddress().orElse(endpoint), trust);
    }

    private String token() throws RepositoryUnavailableException {
        String hint = "; the Helm chart mounts a projected ServiceAccount token with audience blockvault-repository "
                + "there, outside the chart point blockvault.operator.repository-token-file at a file holding a token "
                + "the repository accepts as 'operator'";
        try {
            String token = Files.readString(access.tokenFile(), StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new RepositoryUnavailableException(RepositoryUnavailableException.TOKEN_MISSING,
                        "the operator's repository token file " + access.tokenFile() + " is empty" + hint);
            }
            return token;
        } catch (NoSuchFileException e) {
            throw new RepositoryUnavailableException(RepositoryUnavailableException.TOKEN_MISSING,
                    "the operator's repository token file " + access.tokenFile() + " does not exist" + hint, e);
        } catch (IOException e) {
            throw new RepositoryUnavailableException(RepositoryUnavailableException.TOKEN_MISSING,
                    "the operator's repository token file " + access.tokenFile() + " cannot be read (" + e
                            + ")" + hint, e);
        }
    }

    private static SSLContext trust(Target target) throws RepositoryUnavailableException {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < target.trust().size(); i++) {
                store.setCertificateEntry("ca" + i, target.trust().get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            SSLContext tls = SSLContext.getInstance("TLSv1.3");
            tls.init(null, factory.getTrustManagers(), null);
            return tls;
        } catch (GeneralSecurityException | IOException e) {
            throw new RepositoryUnavailableException(RepositoryUnavailableException.TRUST_MISSING,
                    "the CA certificates of repository " + target.repository() + " cannot be used: " + e.getMessage(), e);
        }
    }

    /** What {@code e} means for the operator, with what to do about it. */
    public static RepositoryUnavailableException failure(Target target, String action, IOException e) {
        String where = "repository " + target.repository() + " at " + target.describe();
        if (e instanceof RepositoryException r) {
            return switch (r.reason()) {
                case UNAUTHENTICATED, FORBIDDEN -> new RepositoryUnavailableException(
                        RepositoryUnavailableException.TOKEN_REJECTED, where + " refused the operator's token ("
                                + r.getMessage() + "); the repository must know it as 'operator' (a managed repository "
                                + "reviews ServiceAccount tokens with audience blockvault-repository)", e);
                default -> new RepositoryUnavailableException(RepositoryUnavailableException.REQUEST_FAILED,
                        "could not " + action + " " + where + ": " + r.reason() + ": " + r.getMessage(), e);
            };
        }
        if (e instanceof SSLException) {
            return new RepositoryUnavailableException(RepositoryUnavailableException.UNTRUSTED, "TLS with " + where
                    + " failed (" + e.getMessage() + "); its certificate must be signed by the trusted CA and name "
                    + target.endpoint().host(), e);
        }
        return new RepositoryUnavailableException(RepositoryUnavailableException.UNREACHABLE, "could not " + action
                + " " + where + " (" + e + "); check that the repository pod runs and its Service and network "
                + "policies let the operator reach port " + target.endpoint().port(), e);
    }
}
