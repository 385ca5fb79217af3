package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.repository.RepositoryCaSecretDependent.SecretData;
import io.blockvault.operator.OwnedDependentResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The transport's TLS server certificate ({@code kubernetes.io/tls}), signed by the repository CA.
 * Kept while it is signed by the current CA, names the right hosts and is not due for renewal;
 * otherwise issued anew. {@code ca.crt} carries the CA bundle for the pod's convenience.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryTlsSecretDependent extends OwnedDependentResource<Secret, BackupRepository> {

    public RepositoryTlsSecretDependent() {
        super(Secret.class);
    }

    /**
     * The Secret by name: JOSDK would otherwise compute {@link #desired} just to find it when it
     * deletes it (cleanup, or a switch to External), signing a certificate, which needs the CA Secret (absent for an External repository).
     */
    @Override
    protected ResourceID targetSecondaryResourceID(BackupRepository repository, Context<BackupRepository> context) {
        RepositoryNames names = RepositoryDependents.names(repository, context);
        return new ResourceID(names.tlsSecret(), names.namespace());
    }

    @Override
    protected Secret desired(BackupRepository repository, Context<BackupRepository> context) {
        OperatorSettings settings = RepositoryDependents.settings(context);
        RepositoryNames names = RepositoryDependents.names(repository, context);
        Instant now = RepositoryDependents.clock(context).instant();
        var secrets = context.getClient().secrets().inNamespace(names.namespace());
        Secret caSecret = secrets.withName(names.caSecret()).get();
        if (caSecret == null || caSecret.getData() == null) {
            throw new IllegalStateException("the CA Secret " + names.namespace() + "/" + names.caSecret()
                    + " is missing although it was just reconciled; retrying");
        }
        X509Certificate caCert = SecretData.certificates(caSecret.getData(), "tls.crt").get(0);
        PrivateKey caKey = SecretData.text(caSecret.getData(), "tls.key").flatMap(Certificates::parseKey)
                .orElseThrow(() -> new IllegalStateException("the CA Secret " + names.caSecret()
                        + " has no readable tls.key; delete it and the operator makes a new CA"));
        Secret existing = secrets.withName(names.tlsSecret()).get();
        Map<String, String> data = existing == null || existing.getData() == null ? Map.of() : existing.getData();
        Optional<X509Certificate> current = SecretData.certificates(data, "tls.crt").stream().findFirst();
        Set<String> wanted = new TreeSet<>(names.serverDnsNames());
        boolean keep = current.isPresent()
                && SecretData.text(data, "tls.key").flatMap(Certificates::parseKey).isPresent()
                && Certificates.signedBy(current.get(), caCert)
                && Certificates.dnsNames(current.get()).equals(wanted)
                && Certificates.freshFor(current.get(), now, settings.certRenewBefore())
                && caSecret.getData().get("ca.crt").equals(data.get("ca.crt"));
        Map<String, String> desired = new LinkedHashMap<>();
        if (keep) {
            desired.putAll(data);
        } else {
            Certificates.Issued server = Certificates.newServer(new Certificates.Issued(caCert, caKey),
                    names.clientService(), wanted, now, settings.serverCertValidity());
            desired.put("tls.crt", SecretData.encode(server.certificatePem()));
            desired.put("tls.key", SecretData.encode(server.keyPem()));
            desired.put("ca.crt", caSecret.getData().get("ca.crt"));
        }
        return new SecretBuilder()
                .withNewMetadata().withName(names.tlsSecret()).withNamespace(names.namespace())
                .withLabels(RepositoryDependents.labels(repository, "tls")).endMetadata()
                .withType("kubernetes.io/tls")
                .withData(desired)
                .build();
    }
}
