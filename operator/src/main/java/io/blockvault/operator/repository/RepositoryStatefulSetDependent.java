package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupRepositorySpec;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.OwnedDependentResource;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import java.util.Map;
import java.util.TreeMap;

/**
 * The managed repository: one pod, two containers sharing the data volume.
 * <ul>
 *   <li>{@code transport}: the only network-facing part; non-root, no capabilities at all, read-only
 *       root filesystem, port 6162 with the operator-issued TLS certificate.</li>
 *   <li>{@code guard}: the immutability guard; root, but with every capability dropped except
 *       CAP_LINUX_IMMUTABLE (to set and clear the immutable flag on files it clones into the store
 *       and therefore owns), no ports, read-only root filesystem. Its immutability period comes from
 *       its own arguments, never from the transport.</li>
 * </ul>
 * A hash of the TLS Secret sits in the pod template, so a rotated certificate rolls the pod.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryStatefulSetDependent extends OwnedDependentResource<StatefulSet, BackupRepository> {

    public static final long TRANSPORT_UID = 65532L;
    static final String DATA_DIR = "/var/lib/blockvault/repository";
    static final String TLS_DIR = "/etc/blockvault/tls";
    public static final String TLS_HASH_ANNOTATION = "blockvault.io/tls-secret-hash";

    public RepositoryStatefulSetDependent() {
        super(StatefulSet.class);
    }

    @Override
    protected StatefulSet desired(BackupRepository repository, Context<BackupRepository> context) {
        RepositoryNames names = RepositoryDependents.names(repository, context);
        Secret tls = context.getClient().secrets().inNamespace(names.namespace()).withName(names.tlsSecret()).get();
        String tlsHash = tls == null || tls.getData() == null ? "none"
                : Labels.hash(new TreeMap<>(tls.getData()).toString(), 16);
        return build(repository, RepositoryDependents.settings(context), names, tlsHash);
    }

    public static StatefulSet build(BackupRepository repository, OperatorSettings settings, RepositoryNames names,
            String tlsHash) {
        BackupRepositorySpec spec = repository.getSpec();
        String storageSize = spec.managed() != null && spec.managed().storageSize() != null
                ? spec.managed().storageSize() : "100Gi";
        String storageClass = spec.managed() == null ? null : spec.managed().storageClassName();
        int immutabilityDays = spec.immutabilityDays() == null ? 7 : spec.immutabilityDays();
        Map<String, String> labels = RepositoryDependents.labels(repository, "repository");
        return new StatefulSetBuilder()
                .withNewMetadata().withName(names.statefulSet()).withNamespace(names.namespace()).withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .withReplicas(1)
                .withServiceName(names.headlessService())
                .withNewSelector().withMatchLabels(RepositoryDependents.selector(repository)).endSelector()
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).withAnnotations(Map.of(TLS_HASH_ANNOTATION, tlsHash))
                .endMetadata()
                .withNewSpec()
                .withServiceAccountName(settings.repositoryServiceAccount())
                .withNewSecurityContext()
                .withFsGroup(TRANSPORT_UID)
                .withFsGroupChangePolicy("OnRootMismatch")
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .addNewContainer()
                .withName("transport")
                .withImage(settings.repositoryImage())
                .withArgs("transport", "--port=" + RepositoryNames.PORT, "--tls-dir=" + TLS_DIR, "--data=" + DATA_DIR)
                .addNewPort().withName("transport").withContainerPort(RepositoryNames.PORT).withProtocol("TCP")
                .endPort()
                .withSecurityContext(transportSecurity())
                .withVolumeMounts(mount("data", DATA_DIR, false), mount("tls", TLS_DIR, true),
                        mount("tmp", "/tmp", false))
                .withNewReadinessProbe().withNewTcpSocket().withNewPort("transport").endTcpSocket()
                .withPeriodSeconds(10).endReadinessProbe()
                .withNewResources().withRequests(Map.of("cpu", new Quantity("250m"), "memory", new Quantity("512Mi")))
                .endResources()
                .endContainer()
                .addNewContainer()
                .withName("guard")
                .withImage(settings.repositoryImage())
                .withArgs("guard", "--data=" + DATA_DIR, "--immutability-days=" + immutabilityDays)
                .withSecurityContext(guardSecurity())
                .withVolumeMounts(mount("data", DATA_DIR, false), mount("tmp", "/tmp", false))
                .withNewResources().withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("128Mi")))
                .endResources()
                .endContainer()
                .addNewVolume().withName("tls").withNewSecret().withSecretName(names.tlsSecret())
                .withDefaultMode(0440).endSecret().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec()
                .endTemplate()
                .addNewVolumeClaimTemplate()
                .withNewMetadata().withName("data").withLabels(RepositoryDependents.selector(repository)).endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(storageClass)
                .withNewResources().withRequests(Map.of("storage", new Quantity(storageSize))).endResources()
                .endSpec()
                .endVolumeClaimTemplate()
                .endSpec()
                .build();
    }

    /** Non-root, nothing added, nothing kept: the transport only needs its port above 1024 and its files. */
    static SecurityContext transportSecurity() {
        return new SecurityContextBuilder()
                .withRunAsNonRoot(true).withRunAsUser(TRANSPORT_UID).withRunAsGroup(TRANSPORT_UID)
                .withPrivileged(false).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .build();
    }

    /** Root for file ownership, but the only capability is LINUX_IMMUTABLE. */
    static SecurityContext guardSecurity() {
        return new SecurityContextBuilder()
                .withRunAsNonRoot(false).withRunAsUser(0L).withRunAsGroup(0L)
                .withPrivileged(false).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").withAdd("LINUX_IMMUTABLE").endCapabilities()
                .build();
    }

    private static VolumeMount mount(String volume, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path)
                // false is the API default and is not stored; setting it would look like drift forever.
                .withReadOnly(readOnly ? Boolean.TRUE : null).build();
    }
}
