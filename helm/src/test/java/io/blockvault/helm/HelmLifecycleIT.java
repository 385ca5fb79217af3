package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.ProjectPaths;
import io.blockvault.testing.KubeApiServer.CommandResult;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** helm install, upgrade and uninstall against a real API server. */
class HelmLifecycleIT {

    private static final String NAMESPACE = "blockvault-system";
    private static final String RELEASE = "bv";

    private static KubeApiServer api;
    private static Helm helm;

    @BeforeAll
    static void start() {
        api = KubeApiServer.startEmpty();
        helm = Helm.forCluster(api.kubeconfig());
    }

    @AfterAll
    static void stop() {
        api.stop();
    }

    @Test
    void installUpgradeAndUninstallKeepUserData() throws Exception {
        KubernetesClient client = api.client();

        // --create-namespace makes a namespace without PodSecurity labels: the notes say how to label it.
        CommandResult unlabelled = helm.run("install", RELEASE, Helm.CHART.toString(), "--namespace", "elsewhere",
                "--create-namespace", "--dry-run=server");
        assertThat(unlabelled.exitCode()).as(unlabelled.output()).isZero();
        assertThat(unlabelled.output()).contains("namespace elsewhere has no pod-security.kubernetes.io/enforce label",
                "kubectl label namespace elsewhere pod-security.kubernetes.io/enforce=privileged");

        // A namespace that would refuse the privileged agent pods stops the install with the fix.
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
        CommandResult refused = helm.run("install", RELEASE, Helm.CHART.toString(), "--namespace", NAMESPACE,
                "--wait=false");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.output()).contains("namespace blockvault-system enforces PodSecurity level \"restricted\"",
                "kubectl label namespace blockvault-system pod-security.kubernetes.io/enforce=privileged --overwrite");
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get()).isNull();

        client.namespaces().withName(NAMESPACE).edit(ns -> new NamespaceBuilder(ns).editMetadata()
                .addToLabels("pod-security.kubernetes.io/enforce", "privileged").endMetadata().build());
        CommandResult install = helm.run("install", RELEASE, Helm.CHART.toString(), "--namespace", NAMESPACE,
                "--wait=false");
        assertThat(install.exitCode()).as(install.output()).isZero();
        assertThat(install.output()).contains("Next steps").doesNotContain("has no pod-security.kubernetes.io/enforce");
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get().getSpec()
                .getTemplate().getSpec().getVolumes()).anyMatch(v -> v.getName().equals("repository-token")
                        && v.getProjected().getSources().get(0).getServiceAccountToken().getAudience()
                                .equals("blockvault-repository"));
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get().getSpec()
                .getReplicas()).isEqualTo(1);
        assertThat(client.serviceAccounts().inNamespace(NAMESPACE).withName("bv-operator").get()).isNotNull();
        assertThat(client.services().inNamespace(NAMESPACE).withName("bv-operator-metrics").get()).isNotNull();
        assertThat(client.serviceAccounts().inNamespace(NAMESPACE).withName("blockvault-agent").get()).isNotNull();
        // The managed repository's transport reviews tokens (system:auth-delegator) and accepts the
        // operator by the ServiceAccount name the chart gives it, not the default.
        assertThat(client.serviceAccounts().inNamespace(NAMESPACE).withName("blockvault-repository").get()).isNotNull();
        assertThat(client.rbac().clusterRoleBindings().withName("bv-repository-tokenreview").get().getRoleRef()
                .getName()).isEqualTo("system:auth-delegator");
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get().getSpec()
                .getTemplate().getSpec().getContainers().get(0).getEnv())
                .anyMatch(e -> e.getName().equals("BLOCKVAULT_OPERATOR_OPERATOR_SERVICE_ACCOUNT")
                        && e.getValue().equals("bv-operator"));
        assertThat(client.rbac().clusterRoles().withName("bv-agent").get().getRules()).hasSize(3);
        assertThat(client.rbac().clusterRoles().withName("bv-operator").get().getRules()).isNotEmpty();
        assertThat(client.network().networkPolicies().inNamespace(NAMESPACE).withName("bv-repository").get())
                .isNotNull();
        assertThat(crd("backups.blockvault.io").getMetadata().getAnnotations())
                .containsEntry("helm.sh/resource-policy", "keep");

        // A user's object made while the chart is installed.
        client.resource(client.getKubernetesSerialization().unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: Backup
                metadata:
                  name: on-demand
                spec:
                  repository: main
                  nodeName: worker-1
                  device: /dev/sdb
                """, Backup.class)).create();

        // Upgrade with other values and a changed CRD: Helm itself never upgrades CRDs in crds/.
        Path chart = copyChartWithExtraPrinterColumn();
        try {
            Path values = Files.createTempFile("values", ".yaml");
            Files.writeString(values, """
                    operator:
                      replicas: 2
                    defaultRepository:
                      enabled: true
                      name: main
                    """);
            CommandResult upgrade = helm.run("upgrade", RELEASE, chart.toString(), "--namespace", NAMESPACE, "-f",
                    values.toString());
            Files.delete(values);
            assertThat(upgrade.exitCode()).as(upgrade.output()).isZero();
        } finally {
            deleteTree(chart);
        }
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get().getSpec()
                .getReplicas()).isEqualTo(2);
        assertThat(client.resources(BackupRepository.class).withName("main").get()).isNotNull();
        assertThat(crd("backups.blockvault.io").getSpec().getVersions().get(0).getAdditionalPrinterColumns())
                .anyMatch(c -> c.getName().equals("Upgraded"));

        operatorWithTheChartsRbacReconcilesTheExamplePolicy(client);

        uninstallHookRemovesTheWorkloadsAndKeepsTheData(client);

        // The hook ran above as its Job would (no kubelet here to run the Job; e2e/pods runs it on a node).
        CommandResult uninstall = helm.run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--no-hooks");
        assertThat(uninstall.exitCode()).as(uninstall.output()).isZero();
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get()).isNull();
        assertThat(client.serviceAccounts().inNamespace(NAMESPACE).withName("bv-operator").get()).isNull();
        assertThat(client.services().inNamespace(NAMESPACE).withName("bv-operator-metrics").get()).isNull();
        assertThat(client.rbac().roles().inNamespace(NAMESPACE).withName("bv-operator").get()).isNull();
        assertThat(client.rbac().clusterRoles().withName("bv-operator").get()).isNull();
        assertThat(client.rbac().clusterRoleBindings().withName("bv-operator").get()).isNull();
        assertThat(client.rbac().clusterRoleBindings().withName("bv-agent").get()).isNull();
        assertThat(client.rbac().clusterRoleBindings().withName("bv-repository-tokenreview").get()).isNull();
        assertThat(client.network().networkPolicies().inNamespace(NAMESPACE).withName("bv-repository").get())
                .isNull();
        // What holds users' data stays: the CRDs, their objects, and the repository object.
        assertThat(crd("backups.blockvault.io")).isNotNull();
        assertThat(client.resources(Backup.class).withName("on-demand").get()).isNotNull();
        assertThat(client.resources(BackupRepository.class).withName("main").get()).isNotNull();
    }

    /**
     * The operator's runner jar as the ServiceAccount the chart installed (impersonated: no kubelet
     * mounts a token here) reconciles the chart's repository and examples/nightly-policy.yaml: a
     * rule missing from the chart's RBAC would leave those objects unmade.
     */
    private static void operatorWithTheChartsRbacReconcilesTheExamplePolicy(KubernetesClient client)
            throws IOException, InterruptedException {
        Path jar = operatorRunnerJar();
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = Files.createTempFile("operator", ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("KUBECONFIG", api.kubeconfig().toString());
        builder.environment().put("KUBERNETES_IMPERSONATE_USERNAME",
                "system:serviceaccount:" + NAMESPACE + ":" + RELEASE + "-operator");
        builder.environment().put("QUARKUS_KUBERNETES_CLIENT_NAMESPACE", NAMESPACE);
        builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        Process operator = builder.start();
        try {
            BackupPolicy policy = client.getKubernetesSerialization().unmarshal(
                    Files.readString(ProjectPaths.root().resolve("examples/nightly-policy.yaml")), BackupPolicy.class);
            client.resource(policy).create();
            Awaitility.await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                assertThat(operator.isAlive()).as("operator running; its log: " + log).isTrue();
                assertThat(client.apps().daemonSets().inNamespace(NAMESPACE).withName("blockvault-agent").get())
                        .isNotNull();
                assertThat(client.apps().statefulSets().inNamespace(NAMESPACE).withName("main-repository").get())
                        .isNotNull();
                assertThat(client.secrets().inNamespace(NAMESPACE).withName("main-repository-encryption-key").get())
                        .isNotNull();
                assertThat(client.resources(BackupPolicy.class).withName("nightly").get().getStatus()).isNotNull();
                assertThat(client.resources(BackupPolicy.class).withName("nightly").get().getStatus()
                        .nextScheduleTime()).isNotNull();
            });
            client.resources(BackupPolicy.class).withName("nightly").delete();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> client.apps().daemonSets()
                    .inNamespace(NAMESPACE).withName("blockvault-agent").get() == null);
            assertThat(Files.readString(log)).doesNotContain("Forbidden").doesNotContain("forbidden");
        } finally {
            operator.destroy();
            if (!operator.waitFor(30, TimeUnit.SECONDS)) {
                operator.destroyForcibly();
            }
        }
    }

    /**
     * The chart's pre-delete hook, run as its Job runs it: the runner jar with the Job's arguments, as
     * the operator's ServiceAccount. The operator is scaled to 0 and the repository StatefulSet it made
     * is gone; the repository object, its encryption key and the Backups stay.
     */
    private static void uninstallHookRemovesTheWorkloadsAndKeepsTheData(KubernetesClient client)
            throws IOException, InterruptedException {
        Job job = hookJob(client);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", operatorRunnerJar().toString()));
        command.addAll(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
        CommandResult hook = CommandResult.run(command, Map.of("KUBECONFIG", api.kubeconfig().toString(),
                "KUBERNETES_IMPERSONATE_USERNAME", "system:serviceaccount:" + NAMESPACE + ":" + RELEASE + "-operator",
                "KUBERNETES_NAMESPACE", NAMESPACE), Duration.ofSeconds(90));
        assertThat(hook.exitCode()).as(hook.output()).isZero();
        String output = hook.output();
        assertThat(output).contains("scaled Deployment " + NAMESPACE + "/bv-operator to 0 replicas")
                .contains("deleted StatefulSet " + NAMESPACE + "/main-repository").contains("kept:");
        assertThat(client.apps().deployments().inNamespace(NAMESPACE).withName("bv-operator").get().getSpec()
                .getReplicas()).isZero();
        assertThat(client.apps().statefulSets().inNamespace(NAMESPACE).withName("main-repository").get()).isNull();
        assertThat(client.secrets().inNamespace(NAMESPACE).withName("main-repository-encryption-key").get())
                .isNotNull();
        assertThat(client.resources(BackupRepository.class).withName("main").get()).isNotNull();
    }

    /** The pre-delete hook Job of the release as installed. */
    private static Job hookJob(KubernetesClient client) throws IOException, InterruptedException {
        CommandResult hooks = helm.run("get", "hooks", RELEASE, "--namespace", NAMESPACE);
        assertThat(hooks.exitCode()).as(hooks.output()).isZero();
        for (String doc : hooks.output().split("(?m)^---\\s*$")) {
            if (doc.contains("kind: Job")) {
                Job job = client.getKubernetesSerialization().unmarshal(doc, Job.class);
                assertThat(job.getMetadata().getAnnotations()).containsEntry("helm.sh/hook", "pre-delete");
                return job;
            }
        }
        throw new AssertionError("the release has no pre-delete Job; helm get hooks says: " + hooks.output());
    }

    private static Path operatorRunnerJar() throws IOException {
        try (Stream<Path> files = Files.list(ProjectPaths.root().resolve("operator/target"))) {
            return files.filter(f -> f.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow(
                    () -> new IllegalStateException("no operator runner jar: build it first (./mvnw -pl operator "
                            + "package)"));
        }
    }

    private static CustomResourceDefinition crd(String name) {
        return api.client().apiextensions().v1().customResourceDefinitions().withName(name).get();
    }

    /** A copy of the chart whose Backup CRD has one more printer column, as a newer release would. */
    private static Path copyChartWithExtraPrinterColumn() throws IOException {
        Path copy = Files.createTempDirectory("chart");
        try (Stream<Path> files = Files.walk(Helm.CHART)) {
            for (Path source : files.toList()) {
                Path target = copy.resolve(Helm.CHART.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
        Path backups = copy.resolve("files/crds/backups.blockvault.io.yaml");
        String yaml = Files.readString(backups);
        String marker = "  - additionalPrinterColumns:\n";
        assertThat(yaml).contains(marker);
        Files.writeString(backups, yaml.replace(marker, marker
                + "    - jsonPath: \".status.phase\"\n      name: \"Upgraded\"\n      type: \"string\"\n"));
        return copy;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
