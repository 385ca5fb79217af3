package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The repository's data encryption keys: {@code key-<n>} (32 random bytes each, AES-256) and
 * {@code current} (the name of the key new chunks are encrypted with), and {@code id-key} (32 random
 * bytes the agents HMAC chunk ids with; created once, kept). A new key is added when the
 * current one is older than {@code encryption-key-rotation}; old keys are never removed, so
 * everything written before stays readable.
 *
 * <p>Deliberately neither owned by the BackupRepository nor deleted with it: losing this Secret
 * makes every encrypted backup unreadable. Re-creating a repository of the same name finds and
 * reuses it. Removing it is an administrator's explicit act.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryEncryptionKeyDependent extends KubernetesDependentResource<Secret, BackupRepository>
        implements Creator<Secret, BackupRepository>, Updater<Secret, BackupRepository> {

    public static final String CURRENT = "current";
    /** The agents' chunk-id HMAC key: created once, never rotated (a new one would end deduplication). */
    public static final String ID_KEY = "id-key";
    public static final String CREATED_ANNOTATION_PREFIX = "blockvault.io/created-";
    private final SecureRandom random = new SecureRandom();

    public RepositoryEncryptionKeyDependent() {
        super(Secret.class);
    }

    @Override
    protected Secret desired(BackupRepository repository, Context<BackupRepository> context) {
        OperatorSettings settings = RepositoryDependents.settings(context);
        RepositoryNames names = RepositoryDependents.names(repository, context);
        Instant now = RepositoryDependents.clock(context).instant();
        Secret existing = context.getClient().secrets().inNamespace(names.namespace())
                .withName(names.encryptionKeySecret()).get();
        Map<String, String> data = new LinkedHashMap<>();
        Map<String, String> annotations = new LinkedHashMap<>();
        if (existing != null && existing.getData() != null) {
            data.putAll(existing.getData());
        }
        if (existing != null && existing.getMetadata().getAnnotations() != null) {
            existing.getMetadata().getAnnotations().forEach((k, v) -> {
                if (k.startsWith(CREATED_ANNOTATION_PREFIX)) {
                    annotations.put(k, v);
                }
            });
        }
        if (!data.containsKey(ID_KEY)) {
            byte[] idKey = new byte[32];
            random.nextBytes(idKey);
            data.put(ID_KEY, Base64.getEncoder().encodeToString(idKey));
        }
        String current = data.containsKey(CURRENT)
                ? new String(Base64.getDecoder().decode(data.get(CURRENT)), StandardCharsets.US_ASCII) : null;
        boolean rotate = current == null || !data.containsKey(current);
        if (!rotate && !settings.encryptionKeyRotation().isZero()) {
            String created = annotations.get(CREATED_ANNOTATION_PREFIX + current);
            rotate = created == null
                    || !Instant.parse(created).plus(settings.encryptionKeyRotation()).isAfter(now);
        }
        if (rotate) {
            int next = 1;
            while (data.containsKey("key-" + next)) {
                next++;
            }
            byte[] key = new byte[32];
            random.nextBytes(key);
            String name = "key-" + next;
            data.put(name, Base64.getEncoder().encodeToString(key));
            data.put(CURRENT, Base64.getEncoder().encodeToString(name.getBytes(StandardCharsets.US_ASCII)));
            annotations.put(CREATED_ANNOTATION_PREFIX + name, now.toString());
        }
        annotations.put("blockvault.io/note", "data encryption keys of repository " + repository.getMetadata().getName()
                + "; kept when the repository is deleted, because backups cannot be read without them");
        return new SecretBuilder()
                .withNewMetadata().withName(names.encryptionKeySecret()).withNamespace(names.namespace())
                .withLabels(RepositoryDependents.labels(repository, "encryption-key"))
                .withAnnotations(annotations).endMetadata()
                .withType("Opaque")
                .withData(data)
                .build();
    }
}
