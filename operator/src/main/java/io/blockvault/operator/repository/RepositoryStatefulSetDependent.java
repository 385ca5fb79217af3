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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The managed repository: one pod, two containers sharing the data volume.
 * <ul>
 *   <li>{@code transport}: the only network-facing part; non-root, no capabilities at all, read-only
 *       root filesystem, port 6162 with the operator-issued TLS certificate.</li>
 *   <li>{@code guard}: the immutability guard; root, but with every capability dropped except
 *       CAP_LINUX_IMMUTABLE and CAP_DAC_OVERRIDE (see {@link #guardSecurity()}), no ports, no network
 *       (it forbids itself sockets), read-only root filesystem. Its immutability period comes from its
 *       own arguments, never from the transport.</li>
 * </ul>
 * The arguments are those of the repository jar's {@code serve} and {@code guard} commands;
 * {@code RepositoryStatefulSetArgsTest} parses them with those very commands.
 * A hash of the TLS Secret sits in the pod template, so a rotated certificate rolls the pod.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryStatefulSetDependent extends OwnedDependentResource<StatefulSet, BackupRepository> {

    public static final long TRANSPORT_UID = 65532L;
    static final String DATA_DIR = "/var/lib/blockvault/repository";
    static final String TLS_DIR = "/etc/blockvault/tls";
    public static final String TLS_HASH_ANNOTATION = "blockvault.io/tls-secret-hash";
    /** Where the kubelet mounts the pod's ServiceAccount token and the cluster CA. */
    static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
    /** The audience agents' and the operator's tokens must be issued for. */
    public static final String TOKEN_AUDIENCE = "blockvault-repository";

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
                .withArgs(transportArgs(settings))
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
                .withArgs(guardArgs(immutabilityDays))
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

    /**
     * The transport: the repository on the data volume, the operator-issued certificate, and callers
     * authenticated by TokenReview against this cluster with the pod's own ServiceAccount token (the
     * repository ServiceAccount may create TokenReviews). The agents' and the operator's
     * ServiceAccounts live in the operator's namespace.
     */
    static List<String> transportArgs(OperatorSettings settings) {
        String accounts = "system:serviceaccount:" + settings.namespace() + ":";
        return List.of("serve",
                "--root=" + DATA_DIR,
                "--port=" + RepositoryNames.PORT,
                "--tls-cert=" + TLS_DIR + "/tls.crt",
                "--tls-key=" + TLS_DIR + "/tls.key",
                "--tokenreview-server=https://kubernetes.default.svc",
                "--tokenreview-ca=" + SERVICE_ACCOUNT_DIR + "/ca.crt",
                "--tokenreview-credentials=" + SERVICE_ACCOUNT_DIR + "/token",
                "--audience=" + TOKEN_AUDIENCE,
                "--agent-serviceaccount=" + accounts + settings.agentServiceAccount(),
                "--operator-serviceaccount=" + accounts + settings.operatorServiceAccount());
    }

    /** The guard: its settings as options, so no ConfigMap is needed (and none the transport could touch). */
    static List<String> guardArgs(int immutabilityDays) {
        return List.of("guard", "--repository=" + DATA_DIR, "--lock-days=" + immutabilityDays);
    }

    /** Non-root, nothing added, nothing kept: the transport only needs its port above 1024 and its files. */
    static SecurityContext transportSecurity() {
        return new SecurityContextBuilder()
                .withRunAsNonRoot(true).withRunAsUser(TRANSPORT_UID).withRunAsGroup(TRANSPORT_UID)
                .withPrivileged(false).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .build();
    }

    /**
     * Root, so the sealed copies belong to root and not to the transport's user, with two
     * capabilities, the same the guard is started with on a host ({@code tools/local-repository})
     * and the only ones it accepts ({@code GuardCommand.ALLOWED}):
     * <ul>
     *   <li>LINUX_IMMUTABLE: set and clear the immutable flag on the copies it seals (it owns them,
     *       so it needs no FOWNER for their modes and xattrs);</li>
     *   <li>DAC_OVERRIDE: the incoming area is the transport's (uid 65532, 0755 directories): root
     *       without it is an ordinary "other" there and could read the transport's files but not remove
     *       them after sealing, nor set its lock xattr on a copy it has already made read-only.
     *       It also covers reading and searching, so DAC_READ_SEARCH is not added.</li>
     * </ul>
     */
    static SecurityContext guardSecurity() {
        return new SecurityContextBuilder()
                .withRunAsNonRoot(false).withRunAsUser(0L).withRunAsGroup(0L)
                .withPrivileged(false).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").withAdd("LINUX_IMMUTABLE", "DAC_OVERRIDE").endCapabilities()
                .build();
    }

    private static VolumeMount mount(String volume, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path)
                // false is the API default and is not stored; setting it would look like drift forever.
                .withReadOnly(readOnly ? Boolean.TRUE : null).build();
    }
}
