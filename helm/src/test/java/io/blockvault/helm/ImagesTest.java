package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The image definitions of images/ (images/NAME/image.conf, built by images/build) checked against
 * the source tree: what they copy exists and is what the modules build, their names are the chart's,
 * their users are the ones the pods run as, and the subcommands they run exist. images/tests/run
 * builds the images and runs them.
 */
class ImagesTest {

    private static final Path ROOT = ProjectPaths.root();
    private static final List<String> IMAGES = List.of("operator", "node-agent", "repository");
    private static final List<String> TOOLCHAIN = List.of("dkms", "make", "gcc", "libc6-dev", "build-essential");

    @ParameterizedTest
    @ValueSource(strings = {"operator", "node-agent", "repository"})
    void copiesWhatTheSourceTreeHasAndTheModuleBuilds(String image) throws IOException {
        List<String> sources = new ArrayList<>();
        for (String copy : definition(image).all("copy")) {
            List<String> words = List.of(copy.split("\\s+"));
            assertThat(words).as("copy SRC... DEST in images/" + image).hasSizeGreaterThan(1);
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
                assertThat(ROOT.resolve(source)).as("copy source of images/" + image).exists();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"operator", "node-agent", "repository"})
    void nameAndLabelsAreTheCharts(String image) throws IOException {
        Definition definition = definition(image);
        // The values entry the chart and the operator take this image from.
        String entry = switch (image) {
            case "operator" -> "operator.image";
            case "node-agent" -> "images.agent";
            default -> "images.repository";
        };
        assertThat(definition.one("image")).as("images/" + image + " is named by the values' " + entry).isEqualTo(entry);
        Map<String, Object> values = yaml(Helm.CHART.resolve("values.yaml"));
        Map<String, Object> at = values;
        for (String key : entry.split("\\.")) {
            at = map(at, key);
        }
        assertThat((String) at.get("repository")).isNotBlank();
        assertThat(at).containsKey("tag");
        Map<String, String> labels = definition.labels();
        for (String label : List.of("title", "description", "version", "revision", "url", "licenses")) {
            assertThat(labels).containsKey("org.opencontainers.image." + label);
        }
        assertThat(labels.get("org.opencontainers.image.version")).isEqualTo("${VERSION}");
        assertThat(labels.get("org.opencontainers.image.revision")).isEqualTo("${REVISION}");
    }

    @Test
    void operatorAndRepositoryRunAsTheNonRootUsersTheirPodsExpect() throws IOException {
        assertThat(definition("operator").one("user")).isEqualTo("10001:10001");
        String statefulSet = Files.readString(ROOT.resolve(
                "operator/src/main/java/io/blockvault/operator/repository/RepositoryStatefulSetDependent.java"));
        Matcher uid = Pattern.compile("TRANSPORT_UID = (\\d+)L;").matcher(statefulSet);
        assertThat(uid.find()).isTrue();
        Definition repository = definition("repository");
        assertThat(repository.one("user")).isEqualTo(uid.group(1) + ":" + uid.group(1));
        assertThat(repository.all("add-group")).containsExactly("blockvault " + uid.group(1));
        assertThat(repository.all("add-user"))
                .containsExactly("blockvault " + uid.group(1) + " " + uid.group(1) + " /nonexistent /usr/sbin/nologin");
        assertThat(definition("node-agent").one("user")).isEqualTo("0:0");
    }

    /** The repository image runs the jar's own subcommands: the transport (serve) by default, and guard. */
    @Test
    void repositoryImageRunsSubcommandsOfTheRepositoryJar() throws IOException {
        assertThat(definition("repository").one("cmd")).isEqualTo("serve");
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
        Definition agent = definition("node-agent");
        assertThat(agent.all("set")).contains("MODULE_VERSION " + version.group(1));
        assertThat(agent.all("require-line")).contains("kernel-dkms/dkms.conf PACKAGE_VERSION=\"${MODULE_VERSION}\"");
        assertThat(agent.all("env")).contains("BLOCKVAULT_DKMS_SOURCES /opt/blockvault/dkms/blksnap-${MODULE_VERSION}");
        // Where the agent's module loader looks for them.
        Matcher loader = Pattern.compile("IMAGE_SOURCES = \"([^\"]+)\"").matcher(Files.readString(ROOT.resolve(
                "node-agent/src/main/java/io/blockvault/agent/modules/ModuleLoader.java")));
        assertThat(loader.find()).isTrue();
        assertThat(loader.group(1)).isEqualTo("/opt/blockvault/dkms");
        assertThat(agent.packages()).contains("dkms", "kmod", "make", "gcc", "libc6-dev", "openssl", "mokutil",
                "openjdk-17-jre-headless");
    }

    /** Kernel headers come from the node (mounted /usr/src); the compiler only into the agent's image. */
    @Test
    void onlyTheAgentImageCarriesTheToolchainAndNoImageKernelHeaders() throws IOException {
        for (String image : IMAGES) {
            assertThat(definition(image).packages()).as("images/" + image)
                    .noneMatch(p -> p.startsWith("linux-headers") || p.startsWith("linux-image"));
        }
        for (String image : List.of("operator", "repository")) {
            assertThat(definition(image).packages()).as("images/" + image).doesNotContainAnyElementsOf(TOOLCHAIN);
        }
    }

    /** One definition per image: no Dockerfile beside it, and the build script knows every image. */
    @Test
    void eachImageHasOneDefinitionAndTheBuildBuildsIt() throws IOException {
        String build = Files.readString(ROOT.resolve("images/build"));
        for (String image : IMAGES) {
            Path dir = ROOT.resolve("images").resolve(image);
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).as("images/" + image).containsExactly("image.conf");
            }
            assertThat(build).as("images/build takes " + image).containsPattern("[ (|]" + Pattern.quote(image) + "[|)]");
        }
        try (Stream<Path> files = Files.walk(ROOT.resolve("images"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.equals("Dockerfile") || n.equals("Containerfile"));
        }
    }

    /** images/NAME/image.conf: one entry a line, a keyword and its value; # starts a comment line. */
    record Definition(String image, List<String[]> entries) {

        List<String> all(String keyword) {
            return entries.stream().filter(e -> e[0].equals(keyword)).map(e -> e[1]).toList();
        }

        String one(String keyword) {
            List<String> values = all(keyword);
            assertThat(values).as(keyword + " in images/" + image).hasSize(1);
            return values.get(0);
        }

        List<String> packages() {
            return all("package").stream().flatMap(p -> Arrays.stream(p.split("\\s+"))).toList();
        }

        Map<String, String> labels() {
            Map<String, String> labels = new HashMap<>();
            for (String label : all("label")) {
                String[] kv = label.split("\\s+", 2);
                labels.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
            return labels;
        }
    }

    private static Definition definition(String image) throws IOException {
        List<String[]> entries = new ArrayList<>();
        for (String line : Files.readAllLines(ROOT.resolve("images").resolve(image).resolve("image.conf"))) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] kv = trimmed.split("\\s+", 2);
            entries.add(new String[] {kv[0], kv.length > 1 ? kv[1] : ""});
        }
        return new Definition(image, entries);
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
