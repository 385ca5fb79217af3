package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.KubeApiServer.CommandResult;
import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Lint, render and validate the chart: every rendered object is accepted by a real API server. */
class HelmTemplateIT {

    private static final String ALL_FEATURES = """
            namespace:
              create: true
            operator:
              replicas: 2
              logLevel: DEBUG
              extraEnv:
                - name: BLOCKVAULT_OPERATOR_EXTRA
                  value: "1"
              nodeSelector:
                kubernetes.io/os: linux
            networkPolicy:
              enabled: true
            metrics:
              serviceMonitor: true
              prometheusRule: true
              lastSuccessMaxAgeHours: 30
              repositoryFullPercent: 90
              grafanaDashboard: true
            defaultRepository:
              enabled: true
              name: main
              immutabilityDays: 30
              storageClassName: local-xfs
              storageSize: 2Ti
            defaultPolicy:
              enabled: true
              devices: [/dev/disk/by-id/nvme-data, /dev/sdb]
              nodeSelector:
                node-role.kubernetes.io/worker: ""
              retention:
                keepLast: 3
                keepDaily: 7
            """;

    private static KubeApiServer api;
    private static Helm helm;

    @BeforeAll
    static void start() {
        api = KubeApiServer.startEmpty();
        helm = Helm.forCluster(null);
        installMonitoringKinds();
    }

    /**
     * The chart's ServiceMonitor and PrometheusRule belong to the Prometheus operator, whose CRDs
     * are not ours to ship. Registered here with open schemas, they let the server-side dry run
     * check everything but those two kinds' fields.
     */
    private static void installMonitoringKinds() {
        for (String kind : new String[] {"ServiceMonitor", "PrometheusRule"}) {
            String plural = kind.toLowerCase(java.util.Locale.ROOT) + "s";
            var crd = api.client().getKubernetesSerialization().unmarshal("""
                    apiVersion: apiextensions.k8s.io/v1
                    kind: CustomResourceDefinition
                    metadata:
                      name: %s.monitoring.coreos.com
                    spec:
                      group: monitoring.coreos.com
                      scope: Namespaced
                      names: {kind: %s, plural: %s}
                      versions:
                        - name: v1
                          served: true
                          storage: true
                          schema:
                            openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
                    """.formatted(plural, kind, plural), io.fabric8.kubernetes.api.model.apiextensions.v1
                    .CustomResourceDefinition.class);
            api.client().resource(crd).serverSideApply();
        }
        CommandResult established = api.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd",
                "servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com");
        assertThat(established.exitCode()).as(established.output()).isZero();
    }

    @AfterAll
    static void stop() {
        api.stop();
    }

    @Test
    void lintIsClean() {
        CommandResult lint = helm.run("lint", "--strict", "--kube-version", Helm.KUBE_VERSION, Helm.CHART.toString());
        assertThat(lint.exitCode()).as(lint.output()).isZero();
        assertThat(lint.output()).contains("0 chart(s) failed").doesNotContain("[WARNING]").doesNotContain("[ERROR]");
    }

    @Test
    void defaultValuesRenderObjectsTheApiServerAccepts() throws IOException {
        String rendered = render(null);
        assertThat(rendered).contains("kind: Deployment", "kind: ClusterRole", "kind: ServiceAccount",
                "kind: NetworkPolicy", "kind: CustomResourceDefinition");
        assertThat(rendered).doesNotContainPattern("(?m)^kind: (BackupPolicy|BackupRepository|Namespace)$");
        assertAccepted(rendered);
    }

    /**
     * The NetworkPolicy selects the pods the operator really makes: its labels are read from the
     * operator's sources (name constant and component of the repository StatefulSet and agent
     * DaemonSet), and the operator's own pod from the chart's Deployment.
     */
    @Test
    void networkPolicySelectsThePodsTheOperatorLabels() throws IOException {
        String rendered = render(null);
        NetworkPolicy policy = object(rendered, NetworkPolicy.class, "bv-repository");
        Path operator = ProjectPaths.root().resolve("operator/src/main/java/io/blockvault/operator");
        String repositoryApp = constant(operator.resolve("repository/RepositoryNames.java"), "APP");
        String agentApp = constant(operator.resolve("policy/AgentDaemonSet.java"), "APP");
        assertThat(Files.readString(operator.resolve("repository/RepositoryStatefulSetDependent.java")))
                .contains("RepositoryDependents.labels(repository, \"repository\")");
        assertThat(Files.readString(operator.resolve("policy/AgentDaemonSet.java")))
                .contains("Labels.of(APP, NAME, \"agent\")");

        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(
                Map.of("app.kubernetes.io/name", repositoryApp, "app.kubernetes.io/component", "repository"));
        var from = policy.getSpec().getIngress().get(0).getFrom();
        assertThat(from.get(0).getPodSelector().getMatchLabels()).isEqualTo(
                Map.of("app.kubernetes.io/name", agentApp, "app.kubernetes.io/component", "agent"));
        Map<String, String> operatorPod = object(rendered, Deployment.class, "bv-operator").getSpec().getTemplate()
                .getMetadata().getLabels();
        assertThat(operatorPod).containsAllEntriesOf(from.get(1).getPodSelector().getMatchLabels());
        assertThat(policy.getSpec().getIngress().get(0).getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(6162));
    }

    private static String constant(Path source, String name) throws IOException {
        Matcher m = Pattern.compile("static final String " + name + " = \"([^\"]+)\";").matcher(Files.readString(source));
        assertThat(m.find()).as(name + " in " + source).isTrue();
        return m.group(1);
    }

    /** The operator's repository identity: a token of its own audience, never the API server's token. */
    @Test
    void operatorGetsAProjectedRepositoryToken() throws IOException {
        Deployment operator = object(render(null), Deployment.class, "bv-operator");
        PodSpec pod = operator.getSpec().getTemplate().getSpec();
        Volume token = pod.getVolumes().stream().filter(v -> v.getName().equals("repository-token")).findFirst()
                .orElseThrow();
        assertThat(token.getProjected().getSources()).singleElement().satisfies(source -> {
            assertThat(source.getServiceAccountToken().getAudience()).isEqualTo("blockvault-repository");
            assertThat(source.getServiceAccountToken().getExpirationSeconds()).isEqualTo(3600L);
            assertThat(source.getServiceAccountToken().getPath()).isEqualTo("token");
        });
        assertThat(pod.getContainers().get(0).getVolumeMounts())
                .filteredOn(m -> m.getName().equals("repository-token")).singleElement().satisfies(m -> {
                    assertThat(m.getMountPath()).isEqualTo("/var/run/secrets/blockvault/repository");
                    assertThat(m.getReadOnly()).isTrue();
                });
    }

    /**
     * With namespace.create the namespace enforces the privileged level, and PodSecurity admission
     * of the real API server then admits a pod like the operator's agent pods (privileged, root,
     * host /dev); a namespace enforcing restricted refuses the same pod.
     */
    @Test
    void renderedNamespaceAdmitsPrivilegedAgentPods() throws IOException {
        String rendered = template("bv-psa", "namespace:\n  create: true\n");
        Namespace namespace = object(rendered, Namespace.class, "bv-psa");
        assertThat(namespace.getMetadata().getLabels())
                .containsEntry("pod-security.kubernetes.io/enforce", "privileged");
        assertThat(namespace.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep");
        api.client().resource(namespace).serverSideApply();
        assertThat(dryRunAgentPod("bv-psa").output()).contains("created (server dry run)");

        api.client().resource(new NamespaceBuilder().withNewMetadata().withName("bv-restricted")
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).serverSideApply();
        CommandResult refused = dryRunAgentPod("bv-restricted");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.output()).contains("violates PodSecurity \"restricted:latest\"", "privileged");
    }

    private CommandResult dryRunAgentPod(String namespace) throws IOException {
        // No controller manager runs here to create the default ServiceAccount a pod needs.
        api.client().resource(new ServiceAccountBuilder().withNewMetadata().withName("default")
                .withNamespace(namespace).endMetadata().build()).serverSideApply();
        Path pod = Files.createTempFile("agent-pod", ".yaml");
        try {
            Files.writeString(pod, """
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: agent
                    spec:
                      containers:
                        - name: agent
                          image: ghcr.io/blockvault/node-agent:0.1.0
                          securityContext: {privileged: true, runAsUser: 0}
                          volumeMounts: [{name: dev, mountPath: /dev}]
                      volumes:
                        - {name: dev, hostPath: {path: /dev, type: Directory}}
                    """);
            return api.kubectl("create", "--dry-run=server", "-n", namespace, "-f", pod.toString());
        } finally {
            Files.delete(pod);
        }
    }

    @Test
    void everyOptionalFeatureRendersObjectsTheApiServerAccepts() throws IOException {
        String rendered = render(ALL_FEATURES);
        assertThat(rendered).containsPattern("(?m)^kind: BackupRepository$").containsPattern("(?m)^kind: BackupPolicy$");
        assertThat(rendered).containsPattern("(?m)^kind: ServiceMonitor$").containsPattern("(?m)^kind: PrometheusRule$")
                .contains("grafana_dashboard: \"1\"", "> 108000", "> 0.90")
                .doesNotContain("__LAST_SUCCESS_MAX_AGE_SECONDS__", "__REPOSITORY_FULL_RATIO__");
        assertThat(object(rendered, Namespace.class, "blockvault-system").getMetadata().getLabels())
                .containsEntry("pod-security.kubernetes.io/enforce", "privileged");
        assertThat(rendered).contains("replicas: 2",
                "storageClassName: \"local-xfs\"", "- path: \"/dev/sdb\"");
        assertAccepted(rendered);
    }

    @Test
    void dashboardIsValidJson() throws IOException {
        String rendered = render(ALL_FEATURES);
        String configMap = rendered.substring(rendered.indexOf("grafana_dashboard"));
        String json = configMap.substring(configMap.indexOf("blockvault.json: |") + "blockvault.json: |".length());
        var dashboard = api.client().getKubernetesSerialization().unmarshal(json.strip(), java.util.Map.class);
        assertThat(dashboard).containsEntry("uid", "blockvault-backups");
        assertThat((java.util.List<?>) dashboard.get("panels")).hasSizeGreaterThanOrEqualTo(14);
        assertThat(json).contains("blockvault_repository_used_bytes", "blockvault_repository_dedup_ratio",
                "blockvault_repository_restore_points", "blockvault_retention_deleted_total");
    }

    @Test
    void badValuesAreRejectedNamingTheKey() throws IOException {
        CommandResult result = template("""
                operator:
                  replicas: two
                  frobnicate: true
                """);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("at '/operator/replicas': got string, want integer")
                .contains("additional properties 'frobnicate' not allowed");
    }

    @Test
    void badNewValuesAreRejectedNamingTheKey() throws IOException {
        CommandResult result = template("""
                namespace:
                  create: "yes"
                  labels:
                    pod-security.kubernetes.io/enforce: baseline
                metrics:
                  repositoryFullPercent: 150
                images:
                  agent:
                    pullPolicy: Always
                """);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("at '/namespace/create': got string, want boolean")
                .contains("at '/namespace/labels/pod-security.kubernetes.io~1enforce'")
                .contains("at '/metrics/repositoryFullPercent'")
                .contains("at '/images/agent': additional properties 'pullPolicy' not allowed");
    }

    @Test
    void defaultPolicyWithoutDevicesSaysWhatToSet() throws IOException {
        CommandResult result = template("defaultPolicy:\n  enabled: true\n");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("defaultPolicy.devices: list at least one device path");
    }

    private String render(String values) throws IOException {
        CommandResult result = template(values);
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result.output();
    }

    private CommandResult template(String values) throws IOException {
        return templateIn("blockvault-system", values);
    }

    private String template(String namespace, String values) throws IOException {
        CommandResult result = templateIn(namespace, values);
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result.output();
    }

    private CommandResult templateIn(String namespace, String values) throws IOException {
        Path file = Files.createTempFile("values", ".yaml");
        try {
            Files.writeString(file, values == null ? "" : values);
            return helm.run("template", "bv", Helm.CHART.toString(), "--namespace", namespace,
                    "--kube-version", Helm.KUBE_VERSION, "-f", file.toString());
        } finally {
            Files.delete(file);
        }
    }

    /** The rendered object of that kind and name. */
    private static <T extends HasMetadata> T object(String rendered, Class<T> type, String name) {
        String kind = "kind: " + type.getSimpleName() + "\n";
        for (String doc : rendered.split("(?m)^---\\s*$")) {
            if (doc.contains("\n" + kind) || doc.startsWith(kind)) {
                T object = api.client().getKubernetesSerialization().unmarshal(doc, type);
                if (name.equals(object.getMetadata().getName())) {
                    return object;
                }
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " " + name + " in the rendered chart");
    }

    /**
     * The CRDs are applied for real (the custom objects need them to be validated), the rest is
     * checked with a server-side dry run: nothing else is created.
     */
    private void assertAccepted(String rendered) throws IOException {
        Path file = Files.createTempFile("rendered", ".yaml");
        try {
            Files.writeString(file, rendered);
            CommandResult ns = api.kubectl("create", "namespace", "blockvault-system");
            assertThat(ns.exitCode() == 0 || ns.output().contains("AlreadyExists")).as(ns.output()).isTrue();
            CommandResult realCrds = applyCrdsOnly(file);
            assertThat(realCrds.exitCode()).as(realCrds.output()).isZero();
            CommandResult all = api.kubectl("apply", "--server-side", "--dry-run=server", "-f", file.toString());
            assertThat(all.exitCode()).as(all.output()).isZero();
            assertThat(all.output()).contains("serverside-applied (server dry run)");
        } finally {
            Files.delete(file);
        }
    }

    private CommandResult applyCrdsOnly(Path rendered) throws IOException {
        StringBuilder crds = new StringBuilder();
        for (String doc : Files.readString(rendered).split("(?m)^---\\s*$")) {
            if (doc.contains("kind: CustomResourceDefinition")) {
                crds.append("---\n").append(doc).append('\n');
            }
        }
        Path file = Files.createTempFile("crds", ".yaml");
        try {
            Files.writeString(file, crds);
            CommandResult applied = api.kubectl("apply", "--server-side", "-f", file.toString());
            if (applied.exitCode() == 0) {
                return api.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd", "--all");
            }
            return applied;
        } finally {
            Files.delete(file);
        }
    }
}
