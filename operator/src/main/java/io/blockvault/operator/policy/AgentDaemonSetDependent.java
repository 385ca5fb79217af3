package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.OwnedDependentResource;
import io.blockvault.operator.repository.RepositoryNames;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HostPathVolumeSourceBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The node agent of one policy: a privileged DaemonSet on the policy's nodes. Privileged because it
 * loads kernel modules, opens block devices and freezes filesystems; the init container
 * ({@code build-and-load}) finds or builds the blksnap modules with DKMS against the node's headers
 * (host /usr/src, /lib/modules), loads them, and leaves its verdict in {@code /run/blockvault} for
 * the agent.
 *
 * <p>The agent ({@code run}) reaches the policy's repository with: the endpoint (Managed: the
 * repository's Service; External: spec.external.endpoint), the CA (Managed: {@code tls.crt} of the
 * repository's CA Secret, never its key; External: spec.external.caBundle, copied into a pod
 * annotation and projected as a file by the downward API, so no extra object is needed), a projected
 * ServiceAccount token for the audience {@value #TOKEN_AUDIENCE} (the repository reviews it), and
 * the repository's encryption-key Secret as a read-only key directory (mode 0400). Restores to a file
 * write into the host directory {@value #RESTORE_FILE_DIR}, mounted at the same path.
 *
 * <p>Deleted explicitly when the policy goes (and owned by it, for clusters whose garbage collector
 * runs); cluster-scoped owner, namespaced dependent is allowed by Kubernetes.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + ","
        + Labels.NAME + "=" + AgentDaemonSetDependent.APP))
public class AgentDaemonSetDependent extends OwnedDependentResource<DaemonSet, BackupPolicy> {

    public static final String APP = "blockvault-agent";
    static final String DEFAULT_DIFF_DIRECTORY = "/var/lib/blockvault/diff";
    /** Audience of the agent's repository token; the repository's TokenReview asks for it. */
    public static final String TOKEN_AUDIENCE = "blockvault-repository";
    static final long TOKEN_SECONDS = 3600;
    /** Pod annotation holding an External repository's CA bundle, projected to {@link #CA_DIR}/ca.crt. */
    public static final String CA_BUNDLE_ANNOTATION = "blockvault.io/repository-ca-bundle";
    static final String CA_DIR = "/etc/blockvault/repository-ca";
    static final String TOKEN_DIR = "/var/run/secrets/blockvault/repository";
    static final String KEY_DIR = "/etc/blockvault/keys";
    /** Shared by the init container and the agent: the module loader's verdict. */
    static final String STATE_DIR = "/run/blockvault";
    public static final String MODULE_STATE_FILE = STATE_DIR + "/module-state";
    /**
     * A host directory at the same path in the agent: a Restore's {@code spec.target.file} must be
     * inside it, so that the restored image outlives the pod and is found on the node where it says.
     */
    public static final String RESTORE_FILE_DIR = "/var/lib/blockvault/restore";

    public AgentDaemonSetDependent() {
        super(DaemonSet.class);
    }

    /** {@code <policy>-agent}; shortened so that pod names and labels derived from it stay valid. */
    public static String name(String policy) {
        String name = policy + "-agent";
        return name.length() <= 50 ? name : policy.substring(0, 37).replaceAll("[-.]+$", "") + "-" + Labels.hash(policy, 6)
                + "-agent";
    }

    @Override
    protected DaemonSet desired(BackupPolicy policy, Context<BackupPolicy> context) {
        OperatorSettings settings = context.managedWorkflowAndDependentResourceContext()
                .getMandatory(OperatorSettings.class, OperatorSettings.class);
        BackupRepository repository = context.getClient().resources(BackupRepository.class)
                .withName(policy.getSpec().repository()).get();
        return build(policy, repository, settings);
    }

    /**
     * The DaemonSet for {@code policy}; public so that its pod spec can be unit-tested. A missing
     * {@code repository} (the policy says so in its status) is taken as a managed one of that name:
     * the pods wait for its Secrets.
     */
    public static DaemonSet build(BackupPolicy policy, BackupRepository repository, OperatorSettings settings) {
        String policyName = policy.getMetadata().getName();
        Map<String, String> labels = Labels.of(APP, policyName, "agent");
        labels.put(Labels.POLICY, Labels.value(policyName));
        Map<String, String> selector = Map.of(Labels.NAME, APP, Labels.INSTANCE, Labels.value(policyName));
        BackupPolicySpec spec = policy.getSpec();
        String diffDirectory = spec.diffStorage() != null && spec.diffStorage().directory() != null
                ? spec.diffStorage().directory() : DEFAULT_DIFF_DIRECTORY;
        String repositoryName = spec.repository();
        RepositoryNames names = new RepositoryNames(repositoryName, settings.namespace());
        boolean external = repository != null && repository.getSpec() != null
                && repository.getSpec().mode() == RepositoryMode.External && repository.getSpec().external() != null;
        String endpoint = external ? repository.getSpec().external().endpoint() : names.endpoint();
        Map<String, String> podAnnotations = external
                ? Map.of(CA_BUNDLE_ANNOTATION, repository.getSpec().external().caBundle()) : null;
        List<String> agentArgs = new ArrayList<>(List.of("run",
                "--node-name=$(NODE_NAME)",
                "--repository-name=" + repositoryName,
                "--policy-name=" + policyName,
                "--repository=" + endpoint,
                "--ca-file=" + CA_DIR + "/ca.crt",
                "--token-file=" + TOKEN_DIR + "/token",
                "--key-dir=" + KEY_DIR,
                "--diff-storage=" + diffDirectory,
                "--module-state-file=" + MODULE_STATE_FILE,
                "--restore-file-dir=" + RESTORE_FILE_DIR));
        if (spec.diffStorage() != null && spec.diffStorage().limitMiB() != null) {
            agentArgs.add("--diff-limit-mib=" + spec.diffStorage().limitMiB());
        }
        if (spec.concurrency() != null) {
            agentArgs.add("--concurrency=" + spec.concurrency());
        }
        if (spec.bandwidthLimitMiBps() != null) {
            agentArgs.add("--bandwidth-limit-mibps=" + spec.bandwidthLimitMiBps());
        }
        List<EnvVar> env = List.of(
                new EnvVarBuilder().withName("NODE_NAME").withNewValueFrom().withNewFieldRef()
                        .withFieldPath("spec.nodeName").endFieldRef().endValueFrom().build(),
                new EnvVarBuilder().withName("BLOCKVAULT_POLICY").withValue(policyName).build(),
                new EnvVarBuilder().withName("BLOCKVAULT_REPOSITORY").withValue(spec.repository()).build());
        return new DaemonSetBuilder()
                .withNewMetadata().withName(name(policyName)).withNamespace(settings.namespace())
                .withLabels(labels).endMetadata()
                .withNewSpec()
                .withNewSelector().withMatchLabels(selector).endSelector()
                .withNewUpdateStrategy().withType("RollingUpdate").withNewRollingUpdate()
                .withNewMaxUnavailable(1).endRollingUpdate().endUpdateStrategy()
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).withAnnotations(podAnnotations).endMetadata()
                .withNewSpec()
                .withServiceAccountName(settings.agentServiceAccount())
                .withNodeSelector(matchLabels(spec.nodeSelector()))
                .withAffinity(affinity(spec.nodeSelector()))
                // A node agent must run on every covered node, tainted or not.
                .addNewToleration().withOperator("Exists").endToleration()
                // Long enough for a running backup to destroy its snapshot cleanly.
                .withTerminationGracePeriodSeconds(120L)
                .addNewInitContainer()
                .withName("dkms")
                .withImage(settings.dkmsImage())
                // Exit 0 also without modules: the agent then starts, backs up without snapshots where
                // allowed and reports the loader's reason; a failing init container would only loop.
                .withArgs("build-and-load", "--state-file=" + MODULE_STATE_FILE, "--continue-without-modules")
                .withEnv(env)
                .withSecurityContext(privileged())
                .withVolumeMounts(devMount(), mount("lib-modules", "/lib/modules", false),
                        mount("usr-src", "/usr/src", false), mount("dkms-state", "/var/lib/dkms", false),
                        mount("module-state", STATE_DIR, false))
                .endInitContainer()
                .addNewContainer()
                .withName("agent")
                .withImage(settings.agentImage())
                .withArgs(agentArgs)
                .withEnv(env)
                .withSecurityContext(privileged())
                .withVolumeMounts(devMount(), mount("lib-modules", "/lib/modules", true),
                        mount("usr-src", "/usr/src", true), mount("diff-storage", diffDirectory, false),
                        mount("module-state", STATE_DIR, true), mount("repository-ca", CA_DIR, true),
                        mount("repository-token", TOKEN_DIR, true), mount("encryption-keys", KEY_DIR, true),
                        mount("restore-files", RESTORE_FILE_DIR, false))
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("256Mi")))
                .endResources()
                .endContainer()
                .withVolumes(hostPath("dev", "/dev", "Directory"), hostPath("lib-modules", "/lib/modules", "Directory"),
                        hostPath("usr-src", "/usr/src", "Directory"),
                        hostPath("dkms-state", "/var/lib/dkms", "DirectoryOrCreate"),
                        hostPath("diff-storage", diffDirectory, "DirectoryOrCreate"),
                        hostPath("restore-files", RESTORE_FILE_DIR, "DirectoryOrCreate"),
                        new VolumeBuilder().withName("module-state").withNewEmptyDir().endEmptyDir().build(),
                        external ? caFromAnnotation() : caFromSecret(names.caSecret()),
                        new VolumeBuilder().withName("repository-token").withNewProjected()
                                .addNewSource().withNewServiceAccountToken().withAudience(TOKEN_AUDIENCE)
                                .withExpirationSeconds(TOKEN_SECONDS).withPath("token").endServiceAccountToken()
                                .endSource().endProjected().build(),
                        new VolumeBuilder().withName("encryption-keys").withNewSecret()
                                .withSecretName(names.encryptionKeySecret()).withDefaultMode(0400).endSecret()
                                .build())
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    /** Only the CA's certificate: its Secret also holds the CA's private key, which no agent needs. */
    private static Volume caFromSecret(String secret) {
        return new VolumeBuilder().withName("repository-ca").withNewSecret().withSecretName(secret)
                .addNewItem().withKey("tls.crt").withPath("ca.crt").endItem().endSecret().build();
    }

    private static Volume caFromAnnotation() {
        return new VolumeBuilder().withName("repository-ca").withNewDownwardAPI().addNewItem().withPath("ca.crt")
                .withNewFieldRef().withFieldPath("metadata.annotations['" + CA_BUNDLE_ANNOTATION + "']").endFieldRef()
                .endItem().endDownwardAPI().build();
    }

    private static SecurityContext privileged() {
        return new SecurityContextBuilder().withPrivileged(true).withRunAsUser(0L).build();
    }

    private static VolumeMount mount(String volume, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path)
                // false is the API default and is not stored; setting it would look like drift forever.
                .withReadOnly(readOnly ? Boolean.TRUE : null).build();
    }

    /** Devices that appear after the pod started (hot-plugged disks) must show up in the container. */
    private static VolumeMount devMount() {
        return new VolumeMountBuilder().withName("dev").withMountPath("/dev")
                .withMountPropagation("HostToContainer").build();
    }

    private static Volume hostPath(String name, String path, String type) {
        return new VolumeBuilder().withName(name)
                .withHostPath(new HostPathVolumeSourceBuilder().withPath(path).withType(type).build()).build();
    }

    private static Map<String, String> matchLabels(LabelSelector selector) {
        return selector == null || selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty() ? null
                : selector.getMatchLabels();
    }

    /** matchExpressions of the policy's node selector become required node affinity. */
    private static Affinity affinity(LabelSelector selector) {
        if (selector == null || selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty()) {
            return null;
        }
        List<NodeSelectorRequirement> requirements = selector.getMatchExpressions().stream()
                .map(e -> new NodeSelectorRequirementBuilder().withKey(e.getKey()).withOperator(e.getOperator())
                        .withValues(e.getValues()).build())
                .toList();
        return new AffinityBuilder().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm().withMatchExpressions(requirements).endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().build();
    }
}
