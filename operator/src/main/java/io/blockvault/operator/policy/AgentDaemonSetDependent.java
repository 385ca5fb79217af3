package io.blockvault.operator.policy;

import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupPolicySpec;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.operator.OwnedDependentResource;
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
import java.util.List;
import java.util.Map;

/**
 * The node agent of one policy: a privileged DaemonSet on the policy's nodes. Privileged because it
 * loads kernel modules, opens block devices and freezes filesystems; the init container builds the
 * blksnap modules with DKMS against the node's headers (host /usr/src, /lib/modules) and loads them.
 *
 * <p>Deleted explicitly when the policy goes (and owned by it, for clusters whose garbage collector
 * runs); cluster-scoped owner, namespaced dependent is allowed by Kubernetes.
 */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + ","
        + Labels.NAME + "=" + AgentDaemonSetDependent.APP))
public class AgentDaemonSetDependent extends OwnedDependentResource<DaemonSet, BackupPolicy> {

    public static final String APP = "blockvault-agent";
    static final String DEFAULT_DIFF_DIRECTORY = "/var/lib/blockvault/diff";

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
        return build(policy, settings);
    }

    /** The DaemonSet for {@code policy}; public so that its pod spec can be unit-tested. */
    public static DaemonSet build(BackupPolicy policy, OperatorSettings settings) {
        String policyName = policy.getMetadata().getName();
        Map<String, String> labels = Labels.of(APP, policyName, "agent");
        labels.put(Labels.POLICY, Labels.value(policyName));
        Map<String, String> selector = Map.of(Labels.NAME, APP, Labels.INSTANCE, Labels.value(policyName));
        BackupPolicySpec spec = policy.getSpec();
        String diffDirectory = spec.diffStorage() != null && spec.diffStorage().directory() != null
                ? spec.diffStorage().directory() : DEFAULT_DIFF_DIRECTORY;
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
                .withNewMetadata().withLabels(labels).endMetadata()
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
                .withArgs("build-and-load", "--modules=bdevfilter,blksnap")
                .withEnv(env)
                .withSecurityContext(privileged())
                .withVolumeMounts(mount("lib-modules", "/lib/modules", false), mount("usr-src", "/usr/src", false),
                        mount("dkms-state", "/var/lib/dkms", false))
                .endInitContainer()
                .addNewContainer()
                .withName("agent")
                .withImage(settings.agentImage())
                .withArgs("run")
                .withEnv(env)
                .withSecurityContext(privileged())
                .withVolumeMounts(devMount(), mount("lib-modules", "/lib/modules", true),
                        mount("usr-src", "/usr/src", true), mount("diff-storage", diffDirectory, false))
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("256Mi")))
                .endResources()
                .endContainer()
                .withVolumes(hostPath("dev", "/dev", "Directory"), hostPath("lib-modules", "/lib/modules", "Directory"),
                        hostPath("usr-src", "/usr/src", "Directory"),
                        hostPath("dkms-state", "/var/lib/dkms", "DirectoryOrCreate"),
                        hostPath("diff-storage", diffDirectory, "DirectoryOrCreate"))
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
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
