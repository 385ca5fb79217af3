package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.blockvault.agent.AgentCommand;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The one agent DaemonSet of all policies: its container arguments parse with the node agent's own
 * command line (the picocli commands of node-agent), so a renamed or removed agent option fails this
 * build naming the argument; it carries one group of options per repository (managed and external),
 * every policy's difference storage, the union of their nodes, and only valid policies.
 */
class AgentDaemonSetTest {

    static final OperatorSettings SETTINGS = OperatorSettings.defaults("blockvault-system");

    static BackupPolicy policy(String name, String repository, String extra) {
        BackupPolicy p = Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: %s
                  uid: uid-%s
                spec:
                  repository: %s
                  devices:
                    - path: /dev/nvme0n1
                  schedule: "@daily"
                %s""".formatted(name, name, repository, extra.indent(2)), BackupPolicy.class);
        return p;
    }

    /** edge: managed vault, two backups at once, its own diff storage, nodes pool=edge with an nvme disk. */
    static final BackupPolicy EDGE = policy("edge", "vault", """
            concurrency: 2
            bandwidthLimitMiBps: 40
            diffStorage:
              directory: /var/lib/bv-diff
              limitMiB: 2048
            nodeSelector:
              matchLabels:
                pool: edge
              matchExpressions:
                - key: disk
                  operator: In
                  values: [nvme]
            """);
    /** core: external offsite, default diff storage, nodes zone=b. */
    static final BackupPolicy CORE = policy("core", "offsite", """
            nodeSelector:
              matchLabels:
                zone: b
            """);

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
              name: offsite
            spec:
              mode: External
              external:
                endpoint: backup.example.org:6162
                caBundle: |
                  -----BEGIN CERTIFICATE-----
                  bm90IGEgY2VydGlmaWNhdGU=
                  -----END CERTIFICATE-----
            """);

    static final Map<String, BackupRepository> REPOSITORIES = Map.of("vault", MANAGED, "offsite", EXTERNAL);

    static DaemonSet build(BackupPolicy... policies) {
        return AgentDaemonSet.build(List.of(policies), REPOSITORIES, SETTINGS);
    }

    /** The agent's repository groups: each --repository-name=NAME starts one, up to the next. */
    static Map<String, Map<String, String>> groups(List<String> args) {
        Map<String, Map<String, String>> groups = new LinkedHashMap<>();
        Map<String, String> current = null;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            if (kv[0].equals("--repository-name")) {
                current = new LinkedHashMap<>();
                groups.put(kv[1], current);
            } else if (current != null && List.of("--repository", "--ca-file", "--key-dir", "--server-name")
                    .contains(kv[0])) {
                current.put(kv[0], kv[1]);
            }
        }
        return groups;
    }

    static Volume volume(DaemonSet ds, String name) {
        return ds.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
    }

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
    void oneGroupOfRepositoryOptionsPerRepositoryParsesWithTheAgentsRunCommand() {
        DaemonSet ds = build(CORE, EDGE);
        assertThat(ds.getMetadata().getName()).isEqualTo("blockvault-agent");
        CommandLine.ParseResult run = parse(container(ds, "agent"));
        assertThat(run.commandSpec().name()).isEqualTo("run");
        assertThat((String) option(run, "--node-name")).isEqualTo("from-spec.nodeName");
        assertThat(option(run, "--token-file").toString()).isEqualTo("/var/run/secrets/blockvault/repository/token");
        // One agent runs both policies' backups: the node's limit is the larger of theirs.
        assertThat((Integer) option(run, "--concurrency")).isEqualTo(2);
        assertThat(option(run, "--module-state-file").toString()).isEqualTo(AgentDaemonSet.MODULE_STATE_FILE);
        assertThat(option(run, "--restore-file-dir").toString()).isEqualTo("/var/lib/blockvault/restore");
        // Per-policy settings are read by the agent per Backup, not fixed in the pod.
        assertThat(run.hasMatchedOption("--bandwidth-limit-mibps")).isFalse();
        assertThat(run.hasMatchedOption("--diff-limit-mib")).isFalse();

        assertThat(groups(container(ds, "agent").getArgs())).containsExactly(
                Map.entry("offsite", Map.of("--repository", "backup.example.org:6162",
                        "--ca-file", "/etc/blockvault/repositories/offsite/ca/ca.crt",
                        "--key-dir", "/etc/blockvault/repositories/offsite/keys")),
                Map.entry("vault", Map.of("--repository", "vault-repository.blockvault-system.svc:6162",
                        "--ca-file", "/etc/blockvault/repositories/vault/ca/ca.crt",
                        "--key-dir", "/etc/blockvault/repositories/vault/keys")));

        // Managed: only the certificate of the CA Secret; External: the bundle from a pod annotation.
        var vaultCa = volume(ds, "ca-" + AgentDaemonSet.key("vault")).getSecret();
        assertThat(vaultCa.getSecretName()).isEqualTo("vault-repository-ca");
        assertThat(vaultCa.getItems()).singleElement().satisfies(i -> {
            assertThat(i.getKey()).isEqualTo("tls.crt");
            assertThat(i.getPath()).isEqualTo("ca.crt");
        });
        String annotation = AgentDaemonSet.CA_BUNDLE_ANNOTATION + AgentDaemonSet.key("offsite");
        assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsExactly(Map.entry(annotation, EXTERNAL.getSpec().external().caBundle()));
        var offsiteCa = volume(ds, "ca-" + AgentDaemonSet.key("offsite"));
        assertThat(offsiteCa.getSecret()).isNull();
        assertThat(offsiteCa.getDownwardAPI().getItems()).singleElement().satisfies(i -> {
            assertThat(i.getPath()).isEqualTo("ca.crt");
            assertThat(i.getFieldRef().getFieldPath()).isEqualTo("metadata.annotations['" + annotation + "']");
        });
        for (String repository : List.of("vault", "offsite")) {
            var keys = volume(ds, "keys-" + AgentDaemonSet.key(repository)).getSecret();
            assertThat(keys.getSecretName()).isEqualTo(repository + "-repository-encryption-key");
            assertThat(keys.getDefaultMode()).isEqualTo(0400);
        }
        Map<String, String> mounts = new LinkedHashMap<>();
        container(ds, "agent").getVolumeMounts().forEach(m -> mounts.put(m.getMountPath(), m.getName()));
        assertThat(mounts).containsEntry("/etc/blockvault/repositories/vault/ca", "ca-" + AgentDaemonSet.key("vault"))
                .containsEntry("/etc/blockvault/repositories/offsite/keys", "keys-" + AgentDaemonSet.key("offsite"))
                .containsEntry("/var/lib/bv-diff", "diff-" + AgentDaemonSet.key("/var/lib/bv-diff"))
                .containsEntry("/var/lib/blockvault/diff", "diff-" + AgentDaemonSet.key("/var/lib/blockvault/diff"));
        for (String dir : List.of("/var/lib/bv-diff", "/var/lib/blockvault/diff")) {
            var hostPath = volume(ds, "diff-" + AgentDaemonSet.key(dir)).getHostPath();
            assertThat(hostPath.getPath()).isEqualTo(dir);
            assertThat(hostPath.getType()).isEqualTo("DirectoryOrCreate");
        }
        // The restore directory is the node's, at the same path, so a restored file outlives the pod.
        assertThat(volume(ds, "restore-files").getHostPath().getPath()).isEqualTo("/var/lib/blockvault/restore");
        assertThat(mounts).containsEntry("/var/lib/blockvault/restore", "restore-files");

        CommandLine.ParseResult init = parse(container(ds, "dkms"));
        assertThat(init.commandSpec().name()).isEqualTo("build-and-load");
        assertThat(option(init, "--state-file").toString()).isEqualTo(AgentDaemonSet.MODULE_STATE_FILE);
        assertThat(init.hasMatchedOption("--continue-without-modules")).isTrue();
    }

    /** Every policy owns it (a garbage collector removes it with the last); none is its controller. */
    @Test
    void everyPolicyOwnsItAndItRunsOnTheNodesOfAny() {
        DaemonSet ds = build(CORE, EDGE);
        assertThat(ds.getMetadata().getOwnerReferences()).extracting(o -> o.getKind() + "/" + o.getName() + "/"
                + o.getUid() + "/" + o.getController()).containsExactly("BackupPolicy/core/uid-core/null",
                "BackupPolicy/edge/uid-edge/null");
        var pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getNodeSelector()).isNullOrEmpty();
        List<NodeSelectorTerm> terms = pod.getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
        assertThat(terms).extracting(t -> t.getMatchExpressions().stream()
                .map(e -> e.getKey() + " " + e.getOperator() + " " + e.getValues()).toList())
                .containsExactly(List.of("zone In [b]"), List.of("pool In [edge]", "disk In [nvme]"));
        // A policy for every node: the agent goes everywhere.
        BackupPolicy all = policy("all", "vault", "");
        assertThat(build(all, CORE, EDGE).getSpec().getTemplate().getSpec().getAffinity()).isNull();
    }

    @Test
    void onlyValidPoliciesAreServed() {
        assertThat(AgentDaemonSet.valid(EDGE, REPOSITORIES)).isTrue();
        assertThat(AgentDaemonSet.valid(policy("lost", "nowhere", ""), REPOSITORIES)).as("no such repository")
                .isFalse();
        BackupPolicy bad = Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: bad
                spec:
                  repository: vault
                  devices:
                    - path: /dev/sda
                  schedule: "61 * * * *"
                """, BackupPolicy.class);
        assertThat(AgentDaemonSet.valid(bad, REPOSITORIES)).as("schedule does not parse").isFalse();
        BackupPolicy deleting = policy("going", "vault", "");
        deleting.getMetadata().setDeletionTimestamp("2026-12-06T00:00:00Z");
        assertThat(AgentDaemonSet.valid(deleting, REPOSITORIES)).as("being deleted").isFalse();
    }

    @Test
    void anOptionTheAgentDoesNotKnowFailsNamingIt() {
        Container agent = container(build(EDGE), "agent");
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
