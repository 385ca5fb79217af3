package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.OwnedDependentResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The repository's CA: {@code tls.crt}/{@code tls.key} of the current CA and {@code ca.crt}, the
 * bundle clients trust. Generated once and kept; replaced when it would expire within
 * {@code cert-renew-before}, and then the old CA stays in {@code ca.crt} until it expires, so clients
 * holding the old bundle or the old server certificate keep working through the rotation.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryCaSecretDependent extends OwnedDependentResource<Secret, BackupRepository> {

    public RepositoryCaSecretDependent() {
        super(Secret.class);
    }

    /**
     * The Secret by name: JOSDK would otherwise compute {@link #desired} just to find it when it
     * deletes it (cleanup, or a switch to External), generating a CA key.
     */
    @Override
    protected ResourceID targetSecondaryResourceID(BackupRepository repository, Context<BackupRepository> context) {
        RepositoryNames names = RepositoryDependents.names(repository, context);
        return new ResourceID(names.caSecret(), names.namespace());
    }

    @Override
    protected Secret desired(BackupRepository repository, Context<BackupRepository> context) {
        OperatorSettings settings = RepositoryDependents.settings(context);
        RepositoryNames names = RepositoryDependents.names(repository, context);
        Instant now = RepositoryDependents.clock(context).instant();
        Secret existing = context.getClient().secrets().inNamespace(names.namespace()).withName(names.caSecret())
                .get();
        Map<String, String> data = existing == null || existing.getData() == null ? Map.of() : existing.getData();
        Optional<X509Certificate> current = SecretData.certificates(data, "tls.crt").stream().findFirst();
        boolean keyPresent = SecretData.text(data, "tls.key").flatMap(Certificates::parseKey).isPresent();
        Map<String, String> desired = new LinkedHashMap<>();
        if (current.isPresent() && keyPresent && Certificates.freshFor(current.get(), now, settings.certRenewBefore())) {
            desired.putAll(data);
        } else {
            Certificates.Issued ca = Certificates.newCa(repository.getMetadata().getName() + " blockvault repository CA",
                    now, settings.caValidity());
            // Still-valid old CAs stay trusted until they expire.
            List<X509Certificate> trusted = SecretData.certificates(data, "ca.crt").stream()
                    .filter(c -> c.getNotAfter().toInstant().isAfter(now)).toList();
            String bundle = ca.certificatePem() + trusted.stream().map(Certificates::pem)
                    .collect(Collectors.joining());
            desired.put("tls.crt", SecretData.encode(ca.certificatePem()));
            desired.put("tls.key", SecretData.encode(ca.keyPem()));
            desired.put("ca.crt", SecretData.encode(bundle));
        }
        return new SecretBuilder()
                .withNewMetadata().withName(names.caSecret()).withNamespace(names.namespace())
                .withLabels(RepositoryDependents.labels(repository, "ca")).endMetadata()
                .withType("Opaque")
                .withData(desired)
                .build();
    }

    /** Reading and writing base64 Secret data. */
    static final class SecretData {

        private SecretData() {
        }

        static Optional<String> text(Map<String, String> data, String key) {
            String value = data.get(key);
            return value == null ? Optional.empty()
                    : Optional.of(new String(Base64.getDecoder().decode(value), StandardCharsets.US_ASCII));
        }

        static List<X509Certificate> certificates(Map<String, String> data, String key) {
            return text(data, key).map(Certificates::parseCertificates).orElse(List.of());
        }

        static String encode(String text) {
            return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
        }
    }
}
