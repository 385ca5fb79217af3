package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No container engine runs here, so the Dockerfiles of images/ are checked against the source
 * tree instead: what they copy exists and is what the modules build, their versions and names are
 * the chart's, and the subcommands they run exist.
 */
class ImagesTest {

    private static final Path ROOT = ProjectPaths.root();
    private static final Pattern COPY = Pattern.compile("(?m)^COPY ((?:[^\\n\\\\]|\\\\\\n)+)$");

    @ParameterizedTest
    @ValueSource(strings = {"operator", "node-agent", "repository"})
    void copiesWhatTheSourceTreeHasAndTheModuleBuilds(String image) throws IOException {
        String dockerfile = dockerfile(image);
        List<String> sources = new ArrayList<>();
        Matcher copy = COPY.matcher(dockerfile);
        while (copy.find()) {
            List<String> words = List.of(copy.group(1).replace("\\\n", " ").trim().split("\\s+"));
            sources.addAll(words.subList(0, words.size() - 1));
        }
        assertThat(sources).isNotEmpty();
        for (String source : sources) {
            if (source.endsWith("-*-runner.jar")) {
                // <module>/target/<artifactId>-*-runner.jar: the module's artifactId and a runner jar it builds.
                String module = source.substring(0, source.indexOf('/'));
                String artifact = source.substring(source.lastIndexOf('/') + 1, source.indexOf("-*-runner.jar"));
                String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
                assertThat(pom).as(module + "/pom.xml").contains("<artifactId>" + artifact + "</artifactId>");
                Path properties = ROOT.resolve(module).resolve("src/main/resources/application.properties");
                boolean runner = pom.contains("<shadedClassifierName>runner</shadedClassifierName>")
                        || Files.exists(properties) && Files.readString(properties)
                                .contains("quarkus.package.jar.type=uber-jar");
                assertThat(runner).as(module + " builds a -runner.jar").isTrue();
            } else {
                assertThat(ROOT.resolve(source)).as("COPY source of images/" + image).exists();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"operator", "node-agent", "repository"})
    void versionNameAndLabelsAreTheCharts(String image) throws IOException {
        String dockerfile = dockerfile(image);
        Map<String, Object> chart = yaml(Helm.CHART.resolve("Chart.yaml"));
        assertThat(dockerfile).contains("ARG VERSION=" + chart.get("appVersion"));
        Map<String, Object> values = yaml(Helm.CHART.resolve("values.yaml"));
        String repository = (String) switch (image) {
            case "operator" -> map(map(values, "operator"), "image").get("repository");
            case "node-agent" -> map(map(values, "images"), "agent").get("repository");
            default -> map(map(values, "images"), "repository").get("repository");
        };
        assertThat(dockerfile).as("the build command in images/" + image + "/Dockerfile tags the values' image")
                .contains("-t " + repository + ":" + chart.get("appVersion") + " .");
        for (String label : List.of("title", "description", "version", "revision", "url", "licenses")) {
            assertThat(dockerfile).contains("org.opencontainers.image." + label + "=");
        }
    }

    @Test
    void operatorAndRepositoryRunAsTheNonRootUsersTheirPodsExpect() throws IOException {
        assertThat(dockerfile("operator")).containsPattern("(?m)^USER 10001:10001$");
        String statefulSet = Files.readString(ROOT.resolve(
                "operator/src/main/java/io/blockvault/operator/repository/RepositoryStatefulSetDependent.java"));
        Matcher uid = Pattern.compile("TRANSPORT_UID = (\\d+)L;").matcher(statefulSet);
        assertThat(uid.find()).isTrue();
        assertThat(dockerfile("repository")).containsPattern("(?m)^USER " + uid.group(1) + ":" + uid.group(1) + "$");
    }

    /** The repository image runs the jar's own subcommands: the transport (serve) by default, and guard. */
    @Test
    void repositoryImageRunsSubcommandsOfTheRepositoryJar() throws IOException {
        assertThat(dockerfile("repository")).containsPattern("(?m)^CMD \\[\"serve\"\\]$");
        List<String> commands = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT.resolve("repository/src/main/java"))) {
            for (Path file : files.filter(p -> p.toString().endsWith("Command.java")).toList()) {
                Matcher name = Pattern.compile("@Command\\(name = \"([a-z-]+)\"").matcher(Files.readString(file));
                if (name.find()) {
                    commands.add(name.group(1));
                }
            }
        }
        assertThat(commands).contains("serve", "guard");
    }

    /** DKMS finds the package by the version in dkms.conf; the image must file the sources under it. */
    @Test
    void agentImageFilesTheModuleSourcesUnderTheDkmsVersion() throws IOException {
        Matcher version = Pattern.compile("(?m)^PACKAGE_VERSION=\"([^\"]+)\"$")
                .matcher(Files.readString(ROOT.resolve("kernel-dkms/dkms.conf")));
        assertThat(version.find()).isTrue();
        String dockerfile = dockerfile("node-agent");
        assertThat(dockerfile).contains("ARG MODULE_VERSION=" + version.group(1),
                "ENV BLOCKVAULT_DKMS_SOURCES=/opt/blockvault/dkms/blksnap-${MODULE_VERSION}");
        for (String tool : List.of("dkms", "kmod", "make", "gcc", "openssl", "mokutil", "openjdk-17-jre-headless")) {
            assertThat(dockerfile).containsPattern("apt-get install[^\\n]*(\\n [^\\n]*)*\\b" + Pattern.quote(tool) + "\\b");
        }
    }

    private static String dockerfile(String image) throws IOException {
        return Files.readString(ROOT.resolve("images").resolve(image).resolve("Dockerfile"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws IOException {
        return new KubernetesSerialization().unmarshal(Files.readString(file), Map.class);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.get(key);
    }
}
