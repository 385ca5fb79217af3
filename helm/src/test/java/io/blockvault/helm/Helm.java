package io.blockvault.helm;

import io.blockvault.testing.KubeApiServer.CommandResult;
import io.blockvault.testing.ProjectPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The helm CLI that tools/provision-go-tool builds, run against the chart in helm/blockvault. */
final class Helm {

    static final Path CHART = ProjectPaths.root().resolve("helm/blockvault");
    static final String KUBE_VERSION = ProjectPaths.kubernetesVersion();

    private final Path binary;
    private final Path kubeconfig;

    private Helm(Path binary, Path kubeconfig) {
        this.binary = binary;
        this.kubeconfig = kubeconfig;
    }

    /** Helm against the given cluster (or none, for lint and template). */
    static Helm forCluster(Path kubeconfig) {
        CommandResult built = run(List.of(ProjectPaths.root().resolve("tools/provision-go-tool").toString(), "helm"));
        if (built.exitCode() != 0) {
            throw new IllegalStateException("cannot build helm with tools/provision-go-tool: " + built.output());
        }
        String[] lines = built.output().strip().split("\n");
        return new Helm(Path.of(lines[lines.length - 1].strip()), kubeconfig);
    }

    CommandResult run(String... args) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        if (kubeconfig != null) {
            command.add("--kubeconfig=" + kubeconfig);
        }
        command.addAll(List.of(args));
        return run(command);
    }

    private static CommandResult run(List<String> command) {
        // Helm keeps its caches and repository config away from the user's own.
        Path home = Path.of(System.getProperty("java.io.tmpdir"), "blockvault-helm-home");
        return CommandResult.run(command, Map.of("HELM_CACHE_HOME", home.resolve("cache").toString(),
                "HELM_CONFIG_HOME", home.resolve("config").toString(),
                "HELM_DATA_HOME", home.resolve("data").toString()), Duration.ofMinutes(10));
    }
}
