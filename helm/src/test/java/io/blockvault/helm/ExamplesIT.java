package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.KubeApiServer.CommandResult;
import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every file in examples/ is accepted by a real API server with the CRDs of crds/ (server-side dry
 * run: schema, CEL rules and PodSecurity admission all run, nothing is stored), and every example
 * the docs and the chart's notes name exists.
 */
class ExamplesIT {

    private static final Path EXAMPLES = ProjectPaths.root().resolve("examples");
    private static final String NAMESPACE = "blockvault-system";

    private static KubeApiServer api;

    @BeforeAll
    static void start() {
        api = KubeApiServer.shared();
        // The release namespace as the install guide makes it, with the agents' ServiceAccount the
        // restore pod runs as (no controller manager runs here to make ServiceAccounts).
        api.client().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
                .addToLabels("pod-security.kubernetes.io/enforce", "privileged").endMetadata().build())
                .serverSideApply();
        for (String account : List.of("default", "blockvault-agent")) {
            api.client().resource(new ServiceAccountBuilder().withNewMetadata().withName(account)
                    .withNamespace(NAMESPACE).endMetadata().build()).serverSideApply();
        }
    }

    @Test
    void everyExampleIsAccepted() throws IOException {
        List<Path> examples = examples();
        assertThat(examples).extracting(p -> p.getFileName().toString()).contains("repository.yaml",
                "external-repository.yaml", "nightly-policy.yaml", "on-demand-backup.yaml", "restore-device.yaml",
                "restore-file.yaml", "restore-device-pod.yaml");
        for (Path example : examples) {
            CommandResult result = dryRun(example);
            assertThat(result.exitCode()).as(example + ": " + result.output()).isZero();
            assertThat(result.output()).as(example.toString()).contains("(server dry run)");
        }
    }

    /** The dry run really validates: a Restore with two targets is refused by the CRD's rule. */
    @Test
    void aBrokenExampleIsRefused() throws IOException {
        String restore = Files.readString(EXAMPLES.resolve("restore-device.yaml"))
                .replace("    device: /dev/disk/by-id/nvme-spare", "    device: /dev/disk/by-id/nvme-spare\n"
                        + "    file: /var/lib/blockvault/restore/restore.img");
        Path broken = Files.createTempFile("broken-restore", ".yaml");
        try {
            Files.writeString(broken, restore);
            CommandResult result = dryRun(broken);
            assertThat(result.exitCode()).isNotZero();
            assertThat(result.output())
                    .contains("set exactly one of spec.target.device, spec.target.file and spec.target.pvc");
        } finally {
            Files.delete(broken);
        }
    }

    @Test
    void everyExampleTheDocsNameExists() throws IOException {
        Set<String> named = new TreeSet<>();
        Pattern example = Pattern.compile("examples/([a-z0-9-]+\\.yaml)");
        List<Path> texts;
        try (Stream<Path> docs = Files.list(ProjectPaths.root().resolve("docs"))) {
            texts = Stream.concat(docs.filter(p -> p.toString().endsWith(".md")),
                    Stream.of(Helm.CHART.resolve("templates/NOTES.txt"))).toList();
        }
        for (Path text : texts) {
            Matcher m = example.matcher(Files.readString(text));
            while (m.find()) {
                named.add(m.group(1));
            }
        }
        assertThat(named).hasSizeGreaterThanOrEqualTo(6);
        assertThat(examples()).extracting(p -> p.getFileName().toString()).containsAll(named);
    }

    /** apply needs a name; the examples made with `kubectl create` generate theirs. */
    private static CommandResult dryRun(Path file) throws IOException {
        boolean generated = Files.readString(file).contains("generateName:");
        return generated
                ? api.kubectl("create", "--dry-run=server", "-n", NAMESPACE, "-f", file.toString())
                : api.kubectl("apply", "--server-side", "--dry-run=server", "-n", NAMESPACE, "-f", file.toString());
    }

    private static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }
}
