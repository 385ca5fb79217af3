package io.blockvault.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.operator.policy.AgentDaemonSet;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.testing.KubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The production wiring: the Quarkus runner jar (CDI producers, configuration, QOSDK registration,
 * leader election of the prod profile, OperatorMain starting the operator) against the real API
 * server. Everything behind it is covered by the other ITs.
 */
class OperatorMainIT extends OperatorTestBase {

    private final KubeApiServer api;

    OperatorMainIT(KubernetesClient admin, KubeApiServer api) {
        super(admin);
        this.api = api;
    }

    @Test
    void runnerJarStartsReconcilesAndServesHealthAndMetrics() throws Exception {
        Path jar;
        try (var files = Files.list(Path.of("target"))) {
            jar = files.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no runner jar in target/: run the package phase"));
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Fixtures.node(admin, "q1", Map.of("blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: wired
                spec:
                  repository: main
                  devices:
                    - path: /dev/sda
                  schedule: "@yearly"
                """);
        Path log = Files.createTempFile("operator-main", ".log");
        ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("KUBECONFIG", api.kubeconfig().toString());
        builder.environment().put("QUARKUS_KUBERNETES_CLIENT_NAMESPACE", OperatorIdentity.NAMESPACE);
        builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        Process process = builder.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            eventually().untilAsserted(() -> assertThat(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200));
            eventually().until(() -> admin.apps().daemonSets().inNamespace(OperatorIdentity.NAMESPACE)
                    .withName(AgentDaemonSet.NAME).get() != null);
            eventually().until(() -> admin.resources(BackupPolicy.class).withName("wired").get().getStatus()
                    .nextScheduleTime() != null);
            assertThat(admin.leases().inNamespace(OperatorIdentity.NAMESPACE).withName("blockvault-operator-leader")
                    .get()).isNotNull();
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("operator_sdk");
        } finally {
            process.destroy();
            process.waitFor();
            cleanup(log);
        }
    }

    /** The operator's log goes to the test report (for when an assertion failed), then away. */
    private static void cleanup(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
        Files.deleteIfExists(log);
    }
}
