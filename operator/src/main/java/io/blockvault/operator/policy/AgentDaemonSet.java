package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.repository.RepositoryNames;
import io.blockvault.operator.schedule.CronSchedule;
import io.blockvault.operator.schedule.InvalidScheduleException;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HostPathVolumeSourceBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The node agent: one privileged DaemonSet, {@value #NAME}, whatever the number of policies, so a
 * node runs one agent (one JVM holding its devices) that takes the work of every policy covering it.
 * It runs on the union of the valid policies' nodes and is configured with every repository they
 * name; a policy whose schedule does not parse or whose repository does not exist adds nothing.
 *
 * <p>Privileged because it loads kernel modules, opens block devices and freezes filesystems; the
 * init container ({@code build-and-load}) finds or builds the blksnap modules with DKMS against the
 * node's headers (host /usr/src, /lib/modules), loads them, and leaves its verdict in
 * {@code /run/blockvault} for the agent.
 *
 * <p>Per repository the agent gets: the endpoint (Managed: the repository's Service; External:
 * spec.external.endpoint), the CA (Managed: {@code tls.crt} of the repository's CA Secret, never its
 * key; External: spec.external.caBundle, copied into a pod annotation and projected as a file by the
 * downward API, so no extra object is needed) and its encryption-key Secret as a read-only key
 * directory (mode 0400), under {@value #REPOSITORIES_DIR}/NAME. The node's repository token is one
 * projected ServiceAccount token for the audience {@value #TOKEN_AUDIENCE} (each repository reviews
 * it). Every policy's difference-storage directory is mounted; the agent reads a policy's
 * diffStorage and bandwidthLimitMiBps when it starts one of its backups, so editing those does not
 * restart the agents. Restores to a file write into the host directory {@value #RESTORE_FILE_DIR}.
 *
 * <p>Not a dependent of one policy, since it belongs to all of them: every policy's reconcile
 * recomputes it from all valid policies (under one lock) and applies it, and deletes it when none is
 * left. Its owner references name every valid policy, so a cluster's garbage collector removes it
 * only with the last of them.
 */
public final class AgentDaemonSet {

    private static final Logger LOG = Logger.getLogger(AgentDaemonSet.class);

    public static final String NAME = "blockvault-agent";
    public static final String APP = "blockvault-agent";
    static final String DEFAULT_DIFF_DIRECTORY = "/var/lib/blockvault/diff";
    /** Audience of the agent's repository token; the repository's TokenReview asks for it. */
    public static final String TOKEN_AUDIENCE = "blockvault-repository";
    static final long TOKEN_SECONDS = 3600;
    /**
     * Prefix of the pod annotations holding External repositories' CA bundles (one per repository,
     * suffixed by {@link #key}), each projected to {@value #REPOSITORIES_DIR}/NAME/ca/ca.crt.
     */
    public static final String CA_BUNDLE_ANNOTATION = "blockvault.io/repository-ca-bundle-";
    static final String REPOSITORIES_DIR = "/etc/blockvault/repositories";
    static final String TOKEN_DIR = "/var/run/secrets/blockvault/repository";
    /** Shared by the init container and the agent: the module loader's verdict. */
    static final String STATE_DIR = "/run/blockvault";
    public static final String MODULE_STATE_FILE = STATE_DIR + "/module-state";
    /**
     * A host directory at the same path in the agent: a Restore's {@code spec.target.file} must be
     * inside it, so that the restored image outlives the pod and is found on the node where it says.
     */
    public static final String RESTORE_FILE_DIR = "/var/lib/blockvault/restore";
    private static final String FIELD_MANAGER = "blockvault-operator";

    private AgentDaemonSet() {
    }

    /**
     * Brings the DaemonSet in line with every policy that exists (invalid and deleted ones are skipped):
     * applied by server-side apply, deleted when no valid policy is left. Serialised, and each call
     * reads the policies and repositories from the API server, not an informer cache: two policies
     * deleted back to back must each see the other's deletion, or the last cleanup keeps the
     * DaemonSet for a policy that is already going.
     */
    public static synchronized void reconcile(KubernetesClient client, OperatorSettings settings) {
        List<BackupPolicy> policies = client.resources(BackupPolicy.class).list().getItems();
        Map<String, BackupRepository> repositories = client.resources(BackupRepository.class).list().getItems()
                .stream().collect(Collectors.toMap(r -> r.getMetadata().getName(), Function.identity()));
        List<BackupPolicy> valid = policies.stream().filter(p -> valid(p, repositories))
                .sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
        var daemonSets = client.apps().daemonSets().inNamespace(settings.namespace());
        deleteOnePerPolicyAgents(daemonSets.withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                .withLabel(Labels.NAME, APP).list().getItems(), client);
        if (valid.isEmpty()) {
            if (daemonSets.withName(NAME).get() != null) {
                LOG.infof("no valid BackupPolicy is left: deleting the agent DaemonSet %s", NAME);
                daemonSets.withName(NAME).delete();
            }
            return;
        }
        DaemonSet desired = build(valid, repositories, settings);
        daemonSets.resource(desired).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    /**
     * Earlier operators ran one agent DaemonSet per policy ({@code <policy>-agent}); after an
     * upgrade they would run beside this one, two agents holding each node's devices. Their owner
     * references name live policies, so no garbage collector removes them: this does.
     */
    private static void deleteOnePerPolicyAgents(List<DaemonSet> agents, KubernetesClient client) {
        for (DaemonSet old : agents) {
            if (!NAME.equals(old.getMetadata().getName())) {
                LOG.infof("deleting the agent DaemonSet %s of an earlier operator (one per policy); %s replaces it",
                        old.getMetadata().getName(), NAME);
                client.resource(old).delete();
            }
        }
    }

    /** A policy the agents serve: not being deleted, a schedule that parses, a repository that exists. */
    static boolean valid(BackupPolicy policy, Map<String, BackupRepository> repositories) {
        if (policy.getMetadata().getDeletionTimestamp() != null || policy.getSpec() == null) {
            return false;
        }
        try {
            CronSchedule.parse(policy.getSpec().schedule(), policy.getSpec().timeZone());
        } catch (InvalidScheduleException e) {
            return false;
        }
        return repositories.containsKey(policy.getSpec().repository());
    }

    /** Short stable suffix for the volume and annotation names of a repository or directory. */
    static String key(String name) {
        return Labels.hash(name, 10);
    }

    /**
     * The DaemonSet for the valid {@code policies} (sorted by name) and their {@code repositories};
     * public so that its pod spec can be unit-tested.
     */
    public static DaemonSet build(List<BackupPolicy> policies, Map<String, BackupRepository> repositories,
            OperatorSettings settings) {
        Map<String, String> labels = Labels.of(APP, NAME, "agent");
        Map<String, String> selector = Map.of(Labels.NAME, APP, Labels.INSTANCE, Labels.value(NAME));
        Set<String> repositoryNames = new TreeSet<>();
        Set<String> diffDirectories = new TreeSet<>();
        int concurrency = 1;
        for (BackupPolicy policy : policies) {
            BackupPolicySpec spec = policy.getSpec();
            repositoryNames.add(spec.repository());
            diffDirectories.add(spec.diffStorage() != null && spec.diffStorage().directory() != null
                    ? spec.diffStorage().directory() : DEFAULT_DIFF_DIRECTORY);
            if (spec.concurrency() != null) {
                concurrency = Math.max(concurrency, spec.concurrency());
            }
        }
        // One agent runs every policy's backups: the node's limit is the largest any policy asks for.
        List<String> agentArgs = new ArrayList<>(List.of("run",
                "--node-name=$(NODE_NAME)",
                "--token-file=" + TOKEN_DIR + "/token",
                "--module-state-file=" + MODULE_STATE_FILE,
                "--restore-file-dir=" + RESTORE_FILE_DIR,
                "--concurrency=" + concurrency));
        Map<String, String> podAnnotations = new TreeMap<>();
        List<Volume> repositoryVolumes = new ArrayList<>();
        List<VolumeMount> repositoryMounts = new ArrayList<>();
        for (String name : repositoryNames) {
            BackupRepository repository = repositories.get(name);
            RepositoryNames names = new RepositoryNames(name, settings.namespace());
            boolean external = repository.getSpec() != null && repository.getSpec().mode() == RepositoryMode.External
                    && repository.getSpec().external() != null;
            String dir = REPOSITORIES_DIR + "/" + name;
            agentArgs.addAll(List.of("--repository-name=" + name,
                    "--repository=" + (external ? repository.getSpec().external().endpoint() : names.endpoint()),
                    "--ca-file=" + dir + "/ca/ca.crt",
                    "--key-dir=" + dir + "/keys"));
            String ca = "ca-" + key(name);
            String keys = "keys-" + key(name);
            if (external) {
                podAnnotations.put(CA_BUNDLE_ANNOTATION + key(name), repository.getSpec().external().caBundle());
            }
            repositoryVolumes.add(external ? caFromAnnotation(ca, CA_BUNDLE_ANNOTATION + key(name))
                    : caFromSecret(ca, names.caSecret()));
            repositoryVolumes.add(new VolumeBuilder().withName(keys).withNewSecret()
                    .withSecretName(names.encryptionKeySecret()).withDefaultMode(0400).endSecret().build());
            repositoryMounts.add(mount(ca, dir + "/ca", true));
            repositoryMounts.add(mount(keys, dir + "/keys", true));
        }
        List<Volume> diffVolumes = new ArrayList<>();
        List<VolumeMount> diffMounts = new ArrayList<>();
        for (String dir : diffDirectories) {
            String volume = "diff-" + key(dir);
            diffVolumes.add(hostPath(volume, dir, "DirectoryOrCreate"));
            diffMounts.add(mount(volume, dir, false));
        }
        List<EnvVar> env = List.of(new EnvVarBuilder().withName("NODE_NAME").withNewValueFrom().withNewFieldRef()
                .withFieldPath("spec.nodeName").endFieldRef().endValueFrom().build());
        List<VolumeMount> agentMounts = new ArrayList<>(List.of(devMount(), mount("lib-modules", "/lib/modules", true),
                mount("usr-src", "/usr/src", true), mount("module-state", STATE_DIR, true),
                mount("repository-token", TOKEN_DIR, true), mount("restore-files", RESTORE_FILE_DIR, false)));
        agentMounts.addAll(diffMounts);
        agentMounts.addAll(repositoryMounts);
        // A kernel without module support has no /lib/modules: the pod must start all the same, so that
        // build-and-load can say so (ModulesUnsupported) and the agent backs up without snapshots.
        List<Volume> volumes = new ArrayList<>(List.of(hostPath("dev", "/dev", "Directory"),
                hostPath("lib-modules", "/lib/modules", "DirectoryOrCreate"),
                hostPath("usr-src", "/usr/src", "DirectoryOrCreate"),
                hostPath("dkms-state", "/var/lib/dkms", "DirectoryOrCreate"),
                hostPath("restore-files", RESTORE_FILE_DIR, "DirectoryOrCreate"),
                new VolumeBuilder().withName("module-state").withNewEmptyDir().endEmptyDir().build(),
                new VolumeBuilder().withName("repository-token").withNewProjected()
                        .addNewSource().withNewServiceAccountToken().withAudience(TOKEN_AUDIENCE)
                        .withExpirationSeconds(TOKEN_SECONDS).withPath("token").endServiceAccountToken()
                        .endSource().endProjected().build()));
        volumes.addAll(diffVolumes);
        volumes.addAll(repositoryVolumes);
        return new DaemonSetBuilder()
                .withNewMetadata().withName(NAME).withNamespace(settings.namespace())
                .withLabels(labels).withOwnerReferences(owners(policies)).endMetadata()
                .withNewSpec()
                .withNewSelector().withMatchLabels(selector).endSelector()
                .withNewUpdateStrategy().withType("RollingUpdate").withNewRollingUpdate()
                .withNewMaxUnavailable(1).endRollingUpdate().endUpdateStrategy()
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).withAnnotations(podAnnotations.isEmpty() ? null : podAnnotations)
                .endMetadata()
                .withNewSpec()
                .withServiceAccountName(settings.agentServiceAccount())
                .withAffinity(affinity(policies))
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
                .withVolumeMounts(agentMounts)
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("256Mi")))
                .endResources()
                .endContainer()
                .withVolumes(volumes)
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    /** Every policy the DaemonSet serves; none is the controller, since it belongs to all of them. */
    private static List<OwnerReference> owners(List<BackupPolicy> policies) {
        return policies.stream().map(p -> new OwnerReferenceBuilder().withApiVersion(p.getApiVersion())
                .withKind(p.getKind()).withName(p.getMetadata().getName()).withUid(p.getMetadata().getUid()).build())
                .toList();
    }

    /** Only the CA's certificate: its Secret also holds the CA's private key, which no agent needs. */
    private static Volume caFromSecret(String volume, String secret) {
        return new VolumeBuilder().withName(volume).withNewSecret().withSecretName(secret)
                .addNewItem().withKey("tls.crt").withPath("ca.crt").endItem().endSecret().build();
    }

    private static Volume caFromAnnotation(String volume, String annotation) {
        return new VolumeBuilder().withName(volume).withNewDownwardAPI().addNewItem().withPath("ca.crt")
                .withNewFieldRef().withFieldPath("metadata.annotations['" + annotation + "']").endFieldRef()
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

    /**
     * The host's /dev. Device nodes that appear after the pod started (a hot-plugged disk, a loop
     * device) show up in the container all the same: they are files of the same devtmpfs. No mount
     * propagation is asked for: a node whose /dev is a private mount refuses it ("not a shared or
     * slave mount"), and the agent needs no mounts made under /dev.
     */
    private static VolumeMount devMount() {
        return new VolumeMountBuilder().withName("dev").withMountPath("/dev").build();
    }

    private static Volume hostPath(String name, String path, String type) {
        return new VolumeBuilder().withName(name)
                .withHostPath(new HostPathVolumeSourceBuilder().withPath(path).withType(type).build()).build();
    }

    /**
     * Nodes any policy covers: one node selector term per policy (its matchLabels as In
     * requirements, plus its matchExpressions), ORed; none at all when a policy covers every node.
     */
    static Affinity affinity(List<BackupPolicy> policies) {
        Set<NodeSelectorTerm> terms = new LinkedHashSet<>();
        for (BackupPolicy policy : policies) {
            LabelSelector selector = policy.getSpec().nodeSelector();
            List<NodeSelectorRequirement> requirements = new ArrayList<>();
            if (selector != null && selector.getMatchLabels() != null) {
                new TreeMap<>(selector.getMatchLabels()).forEach((k, v) -> requirements.add(
                        new NodeSelectorRequirementBuilder().withKey(k).withOperator("In").withValues(v).build()));
            }
            if (selector != null && selector.getMatchExpressions() != null) {
                selector.getMatchExpressions().forEach(e -> requirements.add(new NodeSelectorRequirementBuilder()
                        .withKey(e.getKey()).withOperator(e.getOperator()).withValues(e.getValues()).build()));
            }
            if (requirements.isEmpty()) {
                return null;
            }
            terms.add(new NodeSelectorTermBuilder().withMatchExpressions(requirements).build());
        }
        return new AffinityBuilder().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .withNodeSelectorTerms(new ArrayList<>(terms)).endRequiredDuringSchedulingIgnoredDuringExecution()
                .endNodeAffinity().build();
    }
}
