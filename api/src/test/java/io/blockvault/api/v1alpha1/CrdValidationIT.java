package io.blockvault.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.KubeApiServer.CommandResult;
import io.blockvault.testing.WithKubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CRDs of crds/ make a real API server accept good objects and reject bad ones, naming the field. */
@WithKubeApiServer
class CrdValidationIT {

    private static final String VALID_POLICY = """
            apiVersion: blockvault.io/v1alpha1
            kind: BackupPolicy
            metadata:
              name: %s
            spec:
              repository: main
              schedule: "%s"
              timeZone: Europe/Berlin
              devices:
                - path: /dev/disk/by-id/nvme-data
              retention:
                keepLast: %s
                keepDaily: 7
            """;

    private final KubeApiServer api;
    private final KubernetesClient client;

    CrdValidationIT(KubeApiServer api, KubernetesClient client) {
        this.api = api;
        this.client = client;
    }

    @BeforeEach
    @AfterEach
    void deleteAll() {
        client.resources(BackupPolicy.class).delete();
        client.resources(BackupRepository.class).delete();
        client.resources(Backup.class).delete();
        client.resources(Restore.class).delete();
    }

    @Test
    void validPolicyIsAcceptedAndDefaulted() {
        BackupPolicy created = create(BackupPolicy.class, VALID_POLICY.formatted("nightly", "30 1 * * *", 14));

        BackupPolicySpec spec = created.getSpec();
        assertThat(spec.repository()).isEqualTo("main");
        assertThat(spec.devices()).extracting(BackupPolicySpec.DeviceSelector::path)
                .containsExactly("/dev/disk/by-id/nvme-data");
        assertThat(spec.retention().keepLast()).isEqualTo(14);
        // Defaults come from the schema, applied by the API server.
        assertThat(spec.compression()).isEqualTo(BackupPolicySpec.Compression.Zstd);
        assertThat(spec.suspend()).isFalse();
        assertThat(spec.concurrency()).isEqualTo(1);
        assertThat(spec.successfulBackupsHistoryLimit()).isEqualTo(10);
    }

    @Test
    void cronMacrosAreAccepted() {
        assertThat(create(BackupPolicy.class, VALID_POLICY.formatted("hourly", "@hourly", 3)).getSpec().schedule())
                .isEqualTo("@hourly");
    }

    @Test
    void badCronExpressionIsRejectedNamingTheField() {
        assertRejected(BackupPolicy.class, VALID_POLICY.formatted("bad-cron", "every night", 14),
                "spec.schedule", "must be five cron fields");
        assertRejected(BackupPolicy.class, VALID_POLICY.formatted("six-fields", "0 0 1 * * *", 14),
                "spec.schedule", "must be five cron fields");
    }

    @Test
    void negativeRetentionIsRejectedNamingTheField() {
        assertRejected(BackupPolicy.class, VALID_POLICY.formatted("negative", "0 1 * * *", -1),
                "spec.retention.keepLast", "greater than or equal to 0");
    }

    @Test
    void retentionThatKeepsNothingIsRejected() {
        String yaml = VALID_POLICY.formatted("keeps-nothing", "0 1 * * *", 0).replace("keepDaily: 7", "keepDaily: 0");
        assertRejected(BackupPolicy.class, yaml, "spec.retention", "retention keeps nothing");
    }

    @Test
    void missingRepositoryReferenceIsRejectedNamingTheField() {
        String yaml = VALID_POLICY.formatted("no-repo", "0 1 * * *", 3).replace("  repository: main\n", "");
        assertRejected(BackupPolicy.class, yaml, "spec.repository", "Required value");
    }

    @Test
    void missingDevicesAreRejected() {
        String yaml = VALID_POLICY.formatted("no-devices", "0 1 * * *", 3)
                .replace("  devices:\n    - path: /dev/disk/by-id/nvme-data\n", "  devices: []\n");
        assertRejected(BackupPolicy.class, yaml, "spec.devices", "at least 1 items");
    }

    @Test
    void unknownFieldIsRejectedByKubectlNamingTheField() throws IOException {
        String yaml = VALID_POLICY.formatted("unknown-field", "0 1 * * *", 3) + "  frobnicate: true\n";
        CommandResult result = kubectl("create", yaml);
        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("unknown field \"spec.frobnicate\"");
        assertThat(client.resources(BackupPolicy.class).withName("unknown-field").get()).isNull();
    }

    @Test
    void kubectlGetShowsThePrinterColumns() throws IOException {
        CommandResult created = kubectl("apply", VALID_POLICY.formatted("printed", "15 2 * * 0", 4));
        assertThat(created.exitCode()).as(created.output()).isZero();

        CommandResult table = api.kubectl("get", "backuppolicies");
        assertThat(table.exitCode()).as(table.output()).isZero();
        String[] lines = table.output().strip().split("\n");
        assertThat(lines[0].split("\\s{2,}"))
                .containsExactly("NAME", "REPOSITORY", "SCHEDULE", "SUSPEND", "LAST SCHEDULE", "READY", "AGE");
        assertThat(lines[1]).startsWith("printed").contains("main").contains("15 2 * * 0").contains("false");
    }

    @Test
    void externalRepositoryNeedsItsEndpoint() {
        String yaml = """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: offsite
                spec:
                  mode: External
                """;
        assertRejected(BackupRepository.class, yaml, "spec.external", "required when spec.mode is External");
    }

    @Test
    void immutabilityDaysCanBeRaisedButNeverLowered() {
        String yaml = """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: main
                spec:
                  mode: Managed
                  immutabilityDays: %d
                """;
        create(BackupRepository.class, yaml.formatted(14));
        BackupRepository raised = client.resource(parse(BackupRepository.class, yaml.formatted(30))).update();
        assertThat(raised.getSpec().immutabilityDays()).isEqualTo(30);

        assertThatThrownBy(() -> client.resource(parse(BackupRepository.class, yaml.formatted(7))).update())
                .isInstanceOf(KubernetesClientException.class)
                .hasMessageContaining("spec.immutabilityDays")
                .hasMessageContaining("can be raised, never lowered");
    }

    @Test
    void backupSpecIsImmutable() {
        String yaml = """
                apiVersion: blockvault.io/v1alpha1
                kind: Backup
                metadata:
                  name: on-demand
                spec:
                  repository: main
                  nodeName: worker-1
                  device: %s
                """;
        Backup created = create(Backup.class, yaml.formatted("/dev/sdb"));
        assertThat(created.getSpec().type()).isEqualTo(BackupType.Auto);
        assertThatThrownBy(() -> client.resource(parse(Backup.class, yaml.formatted("/dev/sdc"))).update())
                .isInstanceOf(KubernetesClientException.class)
                .hasMessageContaining("spec cannot change");
    }

    @Test
    void restoreNeedsExactlyOneTarget() {
        String yaml = """
                apiVersion: blockvault.io/v1alpha1
                kind: Restore
                metadata:
                  name: two-targets
                spec:
                  repository: main
                  source:
                    backup: nightly-1
                  target:
                    nodeName: worker-1
                    device: /dev/sdc
                    file: /var/tmp/image.raw
                """;
        assertRejected(Restore.class, yaml, "spec.target", "exactly one of spec.target.device");
    }

    private <T extends io.fabric8.kubernetes.api.model.HasMetadata> T create(Class<T> type, String yaml) {
        return client.resource(parse(type, yaml)).create();
    }

    private <T> T parse(Class<T> type, String yaml) {
        return client.getKubernetesSerialization().unmarshal(yaml, type);
    }

    private <T extends io.fabric8.kubernetes.api.model.HasMetadata> void assertRejected(Class<T> type, String yaml,
            String field, String message) {
        T object = parse(type, yaml);
        assertThatThrownBy(() -> client.resource(object).create())
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
                .hasMessageContaining(field)
                .hasMessageContaining(message);
        assertThat(client.resources(type).withName(object.getMetadata().getName()).get()).isNull();
    }

    private CommandResult kubectl(String verb, String yaml) throws IOException {
        Path file = Files.createTempFile("blockvault-object", ".yaml");
        try {
            Files.writeString(file, yaml);
            return api.kubectl(verb, "-f", file.toString());
        } finally {
            Files.delete(file);
        }
    }
}
