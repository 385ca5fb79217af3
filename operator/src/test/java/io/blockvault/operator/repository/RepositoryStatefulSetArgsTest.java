package io.blockvault.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.blockvault.repository.RepositoryCommand;
import io.blockvault.repository.guard.GuardCommand;
import io.blockvault.repository.guard.GuardConfig;
import io.blockvault.repository.transport.ServeCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The repository pod's containers run commands of the repository jar: their arguments are parsed
 * by that jar's own picocli commands and checked as those commands check them, and every file they
 * name lies on a volume of that container. A renamed or removed option fails here, naming the
 * container and the argument.
 */
class RepositoryStatefulSetArgsTest {

    static final String NS = "blockvault-system";
    static final OperatorSettings SETTINGS = OperatorSettings.defaults(NS);

    static PodSpec pod(int immutabilityDays) {
        BackupRepository repository = Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: vault
                spec:
                  mode: Managed
                  immutabilityDays: %d
                """.formatted(immutabilityDays), BackupRepository.class);
        return RepositoryStatefulSetDependent.build(repository, SETTINGS, new RepositoryNames("vault", NS), "hash")
                .getSpec().getTemplate().getSpec();
    }

    static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }

    /** The parsed command of a container, or an AssertionError naming the container and what is wrong. */
    static CommandLine.ParseResult parse(Container c) {
        assertThat(c.getCommand()).as("container %s must keep the image's entrypoint (the repository jar)", c.getName())
                .isNullOrEmpty();
        List<String> args = c.getArgs();
        CommandLine.ParseResult r;
        try {
            r = new CommandLine(new RepositoryCommand()).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError("container " + c.getName() + ": the repository jar refuses its arguments: "
                    + e.getMessage() + " (arguments: " + args + ")", e);
        }
        if (!r.hasSubcommand()) {
            throw new AssertionError("container " + c.getName() + ": " + args + " names no command of the repository jar");
        }
        return r.subcommand();
    }

    static String value(CommandLine.ParseResult r, String option) {
        Object v = r.matchedOptionValue(option, null);
        return v == null ? null : v.toString();
    }

    /** A file argument must be on one of the container's mounts (or the kubelet's ServiceAccount mount). */
    static void assertMounted(Container c, String option, String file, boolean serviceAccount) {
        Path p = Path.of(file);
        boolean mounted = c.getVolumeMounts().stream().map(VolumeMount::getMountPath).map(Path::of).anyMatch(p::startsWith)
                || serviceAccount && p.startsWith(RepositoryStatefulSetDependent.SERVICE_ACCOUNT_DIR);
        assertThat(mounted).as("container %s: %s=%s is on none of its volumes %s", c.getName(), option, file,
                c.getVolumeMounts().stream().map(VolumeMount::getMountPath).toList()).isTrue();
    }

    @Test
    void theTransportRunsServeWithTokenReviewAndTheOperatorIssuedCertificate() {
        PodSpec pod = pod(14);
        Container transport = container(pod, "transport");
        CommandLine.ParseResult serve = parse(transport);
        assertThat(serve.commandSpec().userObject()).isInstanceOf(ServeCommand.class);
        assertThat(((ServeCommand) serve.commandSpec().userObject()).authenticationProblem())
                .as("container transport: authentication options").isEmpty();
        for (String option : List.of("--root", "--tls-cert", "--tls-key", "--tokenreview-ca", "--tokenreview-credentials")) {
            assertMounted(transport, option, value(serve, option), option.startsWith("--tokenreview"));
        }
        assertThat(pod.getAutomountServiceAccountToken()).as("the transport reads its ServiceAccount token").isNotEqualTo(false);
        assertThat(value(serve, "--tls-cert")).endsWith("/tls.crt");
        assertThat(value(serve, "--tls-key")).endsWith("/tls.key");
        assertThat(value(serve, "--tokenreview-server")).isEqualTo("https://kubernetes.default.svc");
        assertThat(value(serve, "--audience")).isEqualTo("blockvault-repository");
        assertThat(value(serve, "--agent-serviceaccount")).isEqualTo("system:serviceaccount:" + NS + ":blockvault-agent");
        assertThat(value(serve, "--operator-serviceaccount"))
                .isEqualTo("system:serviceaccount:" + NS + ":blockvault-operator");
        assertThat(Integer.parseInt(value(serve, "--port"))).isEqualTo(transport.getPorts().get(0).getContainerPort());
    }

    @Test
    void theGuardRunsWithItsSettingsAsOptionsOnTheSameVolume() throws Exception {
        PodSpec pod = pod(14);
        Container guard = container(pod, "guard");
        CommandLine.ParseResult r = parse(guard);
        assertThat(r.commandSpec().userObject()).isInstanceOf(GuardCommand.class);
        GuardConfig config = ((GuardCommand) r.commandSpec().userObject()).fromOptions().orElseThrow(() ->
                new AssertionError("container guard: its settings must be options, there is no config file to read"));
        assertThat(config.lockDays()).isEqualTo(14);
        assertMounted(guard, "--repository", config.repository().toString(), false);
        // the guard works on the very directory the transport serves, through the same volume
        Container transport = container(pod, "transport");
        assertThat(config.repository().toString()).isEqualTo(value(parse(transport), "--root"));
        VolumeMount guardData = mountOf(guard, config.repository().toString());
        VolumeMount transportData = mountOf(transport, config.repository().toString());
        assertThat(guardData.getName()).isEqualTo(transportData.getName());
        assertThat(guardData.getMountPath()).isEqualTo(transportData.getMountPath());
        assertThat(guardData.getReadOnly()).isNotEqualTo(true);
    }

    private static VolumeMount mountOf(Container c, String file) {
        return c.getVolumeMounts().stream().filter(m -> Path.of(file).startsWith(m.getMountPath())).findFirst()
                .orElseThrow();
    }

    @Test
    void driftIsReportedWithTheContainerAndTheArgument() {
        // what the StatefulSet used to pass: commands and options the jar never had
        Container old = new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("transport")
                .withArgs("transport", "--port=6162", "--tls-dir=/etc/blockvault/tls", "--data=/var/lib/x").build();
        assertThatThrownBy(() -> parse(old)).hasMessageContaining("container transport")
                .hasMessageContaining("transport");
        Container oldOptions = new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("guard")
                .withArgs("guard", "--data=/var/lib/x", "--immutability-days=7").build();
        assertThatThrownBy(() -> parse(oldOptions)).hasMessageContaining("container guard")
                .hasMessageContaining("--data=/var/lib/x");
    }
}
