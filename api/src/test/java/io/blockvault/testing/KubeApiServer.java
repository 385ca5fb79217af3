package io.blockvault.testing;

import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real kube-apiserver and etcd, started once per test JVM with Fabric8's kube-api-test from the
 * binaries that {@code tools/provision-control-plane} builds, with the CRDs of {@code crds/} applied.
 */
public final class KubeApiServer {

    // Started at most once per JVM and shared by every test class in it; stopped at exit.

    private static KubeApiServer shared;

    private final io.fabric8.kubeapitest.KubeAPIServer server;
    private final KubernetesClient client;
    private final Path kubeconfig;
    private final Path kubectl;

    private KubeApiServer(io.fabric8.kubeapitest.KubeAPIServer server, String kubeconfigYaml, Path kubectl)
            throws IOException {
        this.server = server;
        this.kubeconfig = Files.createTempFile("blockvault-kubeconfig", ".yaml");
        Files.writeString(kubeconfig, kubeconfigYaml);
        this.client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfigYaml)).build();
        this.kubectl = kubectl;
    }

    /** The server of this JVM, started (and the CRDs applied) on first use, stopped at exit. */
    public static synchronized KubeApiServer shared() {
        if (shared == null) {
            shared = start(true);
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stop, "kube-apiserver-stop"));
        }
        return shared;
    }

    /**
     * A server of the caller's own, without our CRDs (for tests of what installs them, such as the
     * Helm chart); the caller closes it.
     */
    public static KubeApiServer startEmpty() {
        return start(false);
    }

    private static KubeApiServer start(boolean applyCrds) {
        String version = ProjectPaths.kubernetesVersion();
        Path dir = ProjectPaths.kubeApiTestDir();
        Path binaries = dir.resolve("k8s").resolve(version + "-linux-amd64");
        for (String name : List.of("etcd", "kube-apiserver", "kubectl")) {
            if (!Files.isExecutable(binaries.resolve(name))) {
                throw new IllegalStateException(binaries.resolve(name) + " is missing: run tools/provision-control-plane"
                        + " (the README's test command does) to build kube-apiserver, etcd and kubectl " + version);
            }
        }
        var server = new io.fabric8.kubeapitest.KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(dir.toString())
                .withApiServerVersion(version)
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .build());
        server.start();
        try {
            KubeApiServer api = new KubeApiServer(server, server.getKubeConfigYaml(), binaries.resolve("kubectl"));
            if (applyCrds) {
                api.applyCrds();
            }
            return api;
        } catch (IOException | RuntimeException e) {
            server.stop();
            throw new IllegalStateException("kube-apiserver started but the CRDs could not be applied", e);
        }
    }

    /** Applies every CRD in crds/ and waits until the API server serves them. */
    private void applyCrds() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(ProjectPaths.crds())) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        for (Path file : files) {
            CustomResourceDefinition crd;
            try (InputStream in = Files.newInputStream(file)) {
                crd = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
            }
            client.resource(crd).forceConflicts().serverSideApply();
            client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                    .waitUntilCondition(KubeApiServer::established, 60, TimeUnit.SECONDS);
        }
    }

    private static boolean established(CustomResourceDefinition crd) {
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                        .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    public KubernetesClient client() {
        return client;
    }

    /** A kubeconfig file for command-line tools and for processes the tests start. */
    public Path kubeconfig() {
        return kubeconfig;
    }

    /** Runs kubectl against this server; returns its exit code and merged output. */
    public CommandResult kubectl(String... args) {
        List<String> command = new ArrayList<>();
        command.add(kubectl.toString());
        command.add("--kubeconfig=" + kubeconfig);
        command.addAll(List.of(args));
        return CommandResult.run(command, Duration.ofSeconds(60));
    }

    /** Stops a server from {@link #startEmpty()}. */
    public void stop() {
        client.close();
        server.stop();
        try {
            Files.deleteIfExists(kubeconfig);
        } catch (IOException ignored) {
            // a temp file; nothing to do at exit
        }
    }

    /** The outcome of an external command. */
    public record CommandResult(int exitCode, String output) {

        /** Runs {@code command} with stdin closed and stderr merged into the output. */
        public static CommandResult run(List<String> command, Duration timeout) {
            return run(command, java.util.Map.of(), timeout);
        }

        /** The same, with {@code environment} added to this process's. */
        public static CommandResult run(List<String> command, java.util.Map<String, String> environment,
                Duration timeout) {
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
                builder.environment().putAll(environment);
                Process p = builder.start();
                p.getOutputStream().close();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(command + " did not finish in " + timeout);
                }
                return new CommandResult(p.exitValue(), new String(out, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IllegalStateException("cannot run " + command, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted running " + command, e);
            }
        }
    }
}
