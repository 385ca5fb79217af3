package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.blockvault.agent.AgentCommand;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The DaemonSet's container arguments parse with the node agent's own command line (the picocli
 * commands of node-agent), so a renamed or removed agent option fails this build naming the
 * argument; and they carry what the agent needs for a managed and an external repository.
 */
class AgentDaemonSetTest {

    static final OperatorSettings SETTINGS = OperatorSettings.defaults("blockvault-system");

    static BackupPolicy policy() {
        return Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: edge
                spec:
                  repository: vault
                  devices:
                    - path: /dev/nvme0n1
                  schedule: "@daily"
                  concurrency: 2
                  bandwidthLimitMiBps: 40
                  diffStorage:
                    directory: /var/lib/bv-diff
                    limitMiB: 2048
                """, BackupPolicy.class);
    }

    static BackupRepository repository(String yaml) {
        return Serialization.unmarshal(yaml, BackupRepository.class);
    }

    static final BackupRepository MANAGED = repository("""
            apiVersion: blockvault.io/v1alpha1
            kind: BackupRepository
            metadata:
              name: vault
            spec:
              mode: Managed
            """);

    static final BackupRepository EXTERNAL = repository("""
            apiVersion: blockvault.io/v1alpha1
            kind: BackupRepository
            metadata:
              name: vault
            spec:
              mode: External
              external:
                endpoint: backup.example.org:6162
                caBundle: |
                  -----BEGIN CERTIFICATE-----
                  bm90IGEgY2VydGlmaWNhdGU=
                  -----END CERTIFICATE-----
            """);

    /** $(VAR) as the kubelet expands it from the container's env (fieldRefs get a stand-in value). */
    static List<String> expand(Container c) {
        Map<String, String> env = new java.util.HashMap<>();
        for (EnvVar e : c.getEnv()) {
            env.put(e.getName(), e.getValue() != null ? e.getValue() : "from-" + e.getValueFrom().getFieldRef()
                    .getFieldPath());
        }
        Pattern ref = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
        return c.getArgs().stream().map(a -> {
            Matcher m = ref.matcher(a);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String name = m.group(1);
                if (!env.containsKey(name)) {
                    fail("argument " + a + " of container " + c.getName() + " refers to $(" + name
                            + "), which is not in the container's env: the kubelet would pass it literally");
                }
                m.appendReplacement(out, Matcher.quoteReplacement(env.get(name)));
            }
            m.appendTail(out);
            return out.toString();
        }).toList();
    }

    /** Parses like the agent's main; an unknown option fails the test with picocli's message naming it. */
    static CommandLine.ParseResult parse(Container c) {
        List<String> args = expand(c);
        try {
            CommandLine.ParseResult top = new CommandLine(new AgentCommand()).parseArgs(args.toArray(String[]::new));
            assertThat(top.hasSubcommand()).as("container %s names a subcommand", c.getName()).isTrue();
            return top.subcommand();
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError("the agent's command line refuses the arguments of container " + c.getName()
                    + " " + args + ": " + e.getMessage(), e);
        }
    }

    static <T> T option(CommandLine.ParseResult r, String name) {
        assertThat(r.hasMatchedOption(name)).as("option %s is passed", name).isTrue();
        return r.matchedOptionValue(name, null);
    }

    static Container container(DaemonSet ds, String name) {
        var spec = ds.getSpec().getTemplate().getSpec();
        return java.util.stream.Stream.concat(spec.getInitContainers().stream(), spec.getContainers().stream())
                .filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void managedRepositoryArgumentsParseWithTheAgentsRunCommand() {
        DaemonSet ds = AgentDaemonSetDependent.build(policy(), MANAGED, SETTINGS);
        CommandLine.ParseResult run = parse(container(ds, "agent"));
        assertThat(run.commandSpec().name()).isEqualTo("run");
        assertThat((String) option(run, "--node-name")).isEqualTo("from-spec.nodeName");
        assertThat((String) option(run, "--repository-name")).isEqualTo("vault");
        assertThat((String) option(run, "--policy-name")).isEqualTo("edge");
        assertThat((String) option(run, "--repository"))
                .isEqualTo("vault-repository.blockvault-system.svc:6162");
        assertThat(option(run, "--ca-file").toString()).isEqualTo("/etc/blockvault/repository-ca/ca.crt");
        assertThat(option(run, "--token-file").toString()).isEqualTo("/var/run/secrets/blockvault/repository/token");
        assertThat(option(run, "--key-dir").toString()).isEqualTo("/etc/blockvault/keys");
        assertThat(option(run, "--diff-storage").toString()).isEqualTo("/var/lib/bv-diff");
        assertThat((Long) option(run, "--diff-limit-mib")).isEqualTo(2048L);
        assertThat((Integer) option(run, "--concurrency")).isEqualTo(2);
        assertThat((Double) option(run, "--bandwidth-limit-mibps")).isEqualTo(40.0);
        assertThat(option(run, "--module-state-file").toString()).isEqualTo(AgentDaemonSetDependent.MODULE_STATE_FILE);
        assertThat(option(run, "--restore-file-dir").toString()).isEqualTo("/var/lib/blockvault/restore");
        // The restore directory is the node's, at the same path, so a restored file outlives the pod.
        var pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("restore-files")).singleElement()
                .satisfies(v -> {
                    assertThat(v.getHostPath().getPath()).isEqualTo("/var/lib/blockvault/restore");
                    assertThat(v.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
                });
        assertThat(container(ds, "agent").getVolumeMounts()).filteredOn(m -> m.getName().equals("restore-files"))
                .singleElement().satisfies(m -> {
                    assertThat(m.getMountPath()).isEqualTo("/var/lib/blockvault/restore");
                    assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
                });

        CommandLine.ParseResult init = parse(container(ds, "dkms"));
        assertThat(init.commandSpec().name()).isEqualTo("build-and-load");
        assertThat(option(init, "--state-file").toString()).isEqualTo(AgentDaemonSetDependent.MODULE_STATE_FILE);
        assertThat(init.hasMatchedOption("--continue-without-modules")).isTrue();
    }

    @Test
    void externalRepositoryArgumentsUseItsEndpointAndCarryItsCaBundleInThePod() {
        DaemonSet ds = AgentDaemonSetDependent.build(policy(), EXTERNAL, SETTINGS);
        CommandLine.ParseResult run = parse(container(ds, "agent"));
        assertThat((String) option(run, "--repository")).isEqualTo("backup.example.org:6162");
        assertThat(option(run, "--ca-file").toString()).isEqualTo("/etc/blockvault/repository-ca/ca.crt");
        assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry(AgentDaemonSetDependent.CA_BUNDLE_ANNOTATION,
                        EXTERNAL.getSpec().external().caBundle());
        var ca = ds.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals("repository-ca")).findFirst().orElseThrow();
        assertThat(ca.getSecret()).isNull();
        assertThat(ca.getDownwardAPI().getItems()).singleElement().satisfies(i -> {
            assertThat(i.getPath()).isEqualTo("ca.crt");
            assertThat(i.getFieldRef().getFieldPath())
                    .isEqualTo("metadata.annotations['" + AgentDaemonSetDependent.CA_BUNDLE_ANNOTATION + "']");
        });
    }

    @Test
    void anOptionTheAgentDoesNotKnowFailsNamingIt() {
        DaemonSet ds = AgentDaemonSetDependent.build(policy(), MANAGED, SETTINGS);
        Container agent = container(ds, "agent");
        agent.getArgs().add("--repository-endpoint=x:1");
        try {
            parse(agent);
        } catch (AssertionError e) {
            assertThat(e.getMessage()).contains("--repository-endpoint");
            return;
        }
        fail("an unknown option was accepted");
    }
}
