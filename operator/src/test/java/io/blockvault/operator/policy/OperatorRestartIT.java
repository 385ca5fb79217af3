package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.Labels;
import io.blockvault.operator.OperatorTestBase;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The operator restarted mid-schedule neither loses nor duplicates a Backup: a tick half done when
 * the operator died is completed by the next one, and ticks missed while it was down follow the
 * CronJob rule (only the latest, within the starting deadline).
 */
class OperatorRestartIT extends OperatorTestBase {

    private static final List<String> NODES = List.of("r1", "r2", "r3");
    private static final List<String> DEVICES = List.of("/dev/sda", "/dev/sdb");

    OperatorRestartIT(KubernetesClient admin) {
        super(admin);
    }

    private List<Backup> backups() {
        return admin.resources(Backup.class).withLabel(Labels.POLICY, "hourly").list().getItems();
    }

    private Map<String, Long> countBySchedule() {
        return backups().stream().collect(Collectors.groupingBy(b -> b.getMetadata().getLabels()
                .get(Labels.SCHEDULE_TIME), Collectors.counting()));
    }

    private static Instant nextFullHour(Instant after) {
        return after.truncatedTo(ChronoUnit.HOURS).plus(Duration.ofHours(1));
    }

    @Test
    void restartLosesAndDuplicatesNothing() {
        for (String node : NODES) {
            Fixtures.node(admin, node, Map.of("pool", "r", "blockvault-test", "true"));
        }
        externalRepository("main");
        BackupPolicy policy = Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: hourly
                spec:
                  repository: main
                  nodeSelector:
                    matchLabels:
                      pool: r
                  devices:
                    - path: /dev/sda
                    - path: /dev/sdb
                  schedule: "@hourly"
                  startingDeadlineSeconds: 900
                """);
        startOperator();
        Instant tick1 = nextFullHour(clock.instant());
        clock.set(tick1.plusSeconds(2));
        eventually().until(() -> backups().size() == 6);
        Map<String, String> uidsOfTick1 = uids(backups());
        eventually().until(() -> tick1.toString().equals(admin.resources(BackupPolicy.class).withName("hourly").get()
                .getStatus().lastScheduleTime()));

        // The operator dies while making tick 2: two of its six Backups exist, the rest do not,
        // and lastScheduleTime still says tick 1.
        stopOperator();
        Instant tick2 = tick1.plus(Duration.ofHours(1));
        List<Backup> madeBeforeDeath = List.of(
                admin.resource(scheduled(policy, "r1", "/dev/sda", tick2)).create(),
                admin.resource(scheduled(policy, "r2", "/dev/sdb", tick2)).create());
        clock.set(tick2.plusSeconds(30));
        startOperator();
        eventually().until(() -> backups().size() == 12);
        assertThat(countBySchedule()).containsOnly(Map.entry(epoch(tick1), 6L), Map.entry(epoch(tick2), 6L));
        assertThat(uids(backups())).containsAllEntriesOf(uidsOfTick1).containsAllEntriesOf(uids(madeBeforeDeath));
        assertThat(backups()).extracting(b -> b.getSpec().nodeName() + " " + b.getSpec().device() + " "
                + b.getMetadata().getLabels().get(Labels.SCHEDULE_TIME)).doesNotHaveDuplicates();

        // Down for two ticks: only the latest runs (like a CronJob), exactly once.
        stopOperator();
        Instant tick4 = tick2.plus(Duration.ofHours(2));
        clock.set(tick4.plusSeconds(60));
        startOperator();
        eventually().until(() -> backups().size() == 18);
        // A second restart right after the tick changes nothing.
        stopOperator();
        startOperator();
        eventually().during(Duration.ofSeconds(2)).until(() -> backups().size() == 18);
        assertThat(countBySchedule()).containsOnly(Map.entry(epoch(tick1), 6L), Map.entry(epoch(tick2), 6L),
                Map.entry(epoch(tick4), 6L));
        eventually().until(() -> tick4.toString().equals(admin.resources(BackupPolicy.class).withName("hourly").get()
                .getStatus().lastScheduleTime()));
    }

    /** The Backup exactly as the operator makes it: same name, labels and owner. */
    private static Backup scheduled(BackupPolicy policy, String node, String device, Instant tick) {
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName(BackupNames.scheduled("hourly", node, device, tick))
                .withLabels(Map.of(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE, Labels.POLICY, "hourly", Labels.NODE,
                        node, Labels.DEVICE_HASH, BackupNames.deviceHash(device), Labels.SCHEDULE_TIME, epoch(tick),
                        Labels.TYPE, "Auto"))
                .addNewOwnerReference().withApiVersion(policy.getApiVersion()).withKind(policy.getKind())
                .withName("hourly").withUid(policy.getMetadata().getUid()).withController(true).endOwnerReference()
                .build());
        b.setSpec(new BackupSpec("hourly", "main", node, device, BackupType.Auto));
        return b;
    }

    private static String epoch(Instant t) {
        return Long.toString(t.getEpochSecond());
    }

    private static Map<String, String> uids(List<Backup> backups) {
        return backups.stream().collect(Collectors.toMap(b -> b.getMetadata().getName(),
                b -> b.getMetadata().getUid(), (a, b) -> a));
    }
}
