package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.Labels;
import io.blockvault.operator.OperatorTestBase;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A policy's schedule makes Backups at the right times, for the right nodes and devices. */
class BackupPolicySchedulingIT extends OperatorTestBase {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final String POLICY = """
            apiVersion: blockvault.io/v1alpha1
            kind: BackupPolicy
            metadata:
              name: %s
            spec:
              repository: main
              nodeSelector:
                matchLabels:
                  pool: %s
              devices:
                - path: /dev/disk/by-id/nvme-data
                - path: /dev/vd*
              schedule: "30 1 * * *"
              timeZone: Europe/Berlin
              activeFullIntervalDays: 7
              startingDeadlineSeconds: %d
            """;

    BackupPolicySchedulingIT(KubernetesClient admin) {
        super(admin);
    }

    /** 01:30 in Berlin, the first one after {@code after}: computed with java.time, not the operator's code. */
    private static Instant nextBerlin0130(Instant after) {
        ZonedDateTime z = after.atZone(BERLIN).withHour(1).withMinute(30).truncatedTo(ChronoUnit.MINUTES);
        return z.toInstant().isAfter(after) ? z.toInstant() : z.plusDays(1).toInstant();
    }

    private List<Backup> backupsOf(String policy) {
        return admin.resources(Backup.class).withLabel(Labels.POLICY, policy).list().getItems();
    }

    @Test
    void eachTickCreatesOneBackupPerSelectedNodeAndDevice() {
        Fixtures.node(admin, "a1", Map.of("pool", "a", "blockvault-test", "true"));
        Fixtures.node(admin, "a2", Map.of("pool", "a", "blockvault-test", "true"));
        Fixtures.node(admin, "b1", Map.of("pool", "b", "blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("nightly", "a", 3600));
        startOperator();

        Instant tick1 = nextBerlin0130(clock.instant());
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupPolicy.class).withName("nightly").get()
                .getStatus().nextScheduleTime()).isEqualTo(tick1.toString()));
        assertThat(backupsOf("nightly")).isEmpty();

        clock.set(tick1.minusSeconds(1));
        eventually().during(Duration.ofSeconds(1)).until(() -> backupsOf("nightly").isEmpty());

        clock.set(tick1.plusSeconds(5));
        eventually().until(() -> backupsOf("nightly").size() == 4);
        List<Backup> first = backupsOf("nightly");
        assertThat(first).extracting(b -> b.getSpec().nodeName() + " " + b.getSpec().device())
                .containsExactlyInAnyOrder("a1 /dev/disk/by-id/nvme-data", "a1 /dev/vd*",
                        "a2 /dev/disk/by-id/nvme-data", "a2 /dev/vd*");
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmm").withZone(ZoneOffset.UTC).format(tick1);
        assertThat(first).allSatisfy(b -> {
            assertThat(b.getMetadata().getName()).matches("nightly-a[12]-[0-9a-f]{8}-" + stamp);
            assertThat(b.getMetadata().getLabels()).containsEntry(Labels.SCHEDULE_TIME,
                    Long.toString(tick1.getEpochSecond()));
            assertThat(b.getSpec().policy()).isEqualTo("nightly");
            assertThat(b.getSpec().repository()).isEqualTo("main");
            // No full yet and activeFullIntervalDays is set: the first run is an active full.
            assertThat(b.getSpec().type()).isEqualTo(BackupType.Full);
            assertThat(b.getMetadata().getOwnerReferences()).singleElement()
                    .satisfies(o -> assertThat(o.getKind() + "/" + o.getName()).isEqualTo("BackupPolicy/nightly"));
        });
        eventually().untilAsserted(() -> {
            var status = admin.resources(BackupPolicy.class).withName("nightly").get().getStatus();
            assertThat(status.lastScheduleTime()).isEqualTo(tick1.toString());
            assertThat(status.nextScheduleTime()).isEqualTo(nextBerlin0130(tick1).toString());
            assertThat(status.nodes()).extracting(n -> n.nodeName()).containsExactly("a1", "a1", "a2", "a2");
        });

        // The agents finish the fulls, each reporting its node's snapshot module: nodes[] shows the
        // latest Backup's result, mode and moduleState per (node, device).
        first.forEach(b -> AgentStatus.succeed(admin, b, tick1.plusSeconds(600),
                b.getSpec().nodeName().equals("a1") ? "BlksnapLoaded" : "VeeamBlksnapLoaded"));
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupPolicy.class).withName("nightly").get()
                .getStatus().nodes()).extracting(n -> n.nodeName() + " " + n.device() + " " + n.lastResult() + " "
                        + n.lastMode() + " " + n.moduleState())
                .containsExactly("a1 /dev/disk/by-id/nvme-data Succeeded Cbt BlksnapLoaded",
                        "a1 /dev/vd* Succeeded Cbt BlksnapLoaded",
                        "a2 /dev/disk/by-id/nvme-data Succeeded Cbt VeeamBlksnapLoaded",
                        "a2 /dev/vd* Succeeded Cbt VeeamBlksnapLoaded"));

        // The next day brings four more, incremental now (the full is one day old, the interval is seven).
        Instant tick2 = nextBerlin0130(tick1);
        clock.set(tick2.plusSeconds(5));
        eventually().until(() -> backupsOf("nightly").size() == 8);
        List<Backup> second = backupsOf("nightly").stream().filter(b -> b.getMetadata().getLabels()
                .get(Labels.SCHEDULE_TIME).equals(Long.toString(tick2.getEpochSecond()))).toList();
        assertThat(second).hasSize(4).allSatisfy(b -> assertThat(b.getSpec().type()).isEqualTo(BackupType.Auto));
    }

    @Test
    void newNodesAreCoveredFromTheNextTickAndOthersNever() {
        Fixtures.node(admin, "c1", Map.of("pool", "c", "blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("pool-c", "c", 3600));
        startOperator();
        Instant tick1 = nextBerlin0130(clock.instant());
        clock.set(tick1.plusSeconds(1));
        eventually().until(() -> backupsOf("pool-c").size() == 2);

        Fixtures.node(admin, "c2", Map.of("pool", "c", "blockvault-test", "true"));
        Fixtures.node(admin, "d1", Map.of("pool", "d", "blockvault-test", "true"));
        clock.set(nextBerlin0130(tick1).plusSeconds(1));
        eventually().until(() -> backupsOf("pool-c").size() == 6);
        assertThat(backupsOf("pool-c")).extracting(b -> b.getSpec().nodeName()).containsOnly("c1", "c2");
    }

    @Test
    void aRunMissedBeyondTheStartingDeadlineIsSkippedAndReported() {
        Fixtures.node(admin, "m1", Map.of("pool", "m", "blockvault-test", "true"));
        externalRepository("main");
        BackupPolicy policy = Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("late", "m", 600));
        Instant tick1 = nextBerlin0130(clock.instant());
        // The operator comes up two hours after the tick: more than the 600 s deadline.
        clock.set(tick1.plus(Duration.ofHours(2)));
        startOperator();

        eventually().untilAsserted(() -> assertThat(admin.v1().events().inNamespace("default").list().getItems())
                .filteredOn(e -> policy.getMetadata().getUid().equals(e.getInvolvedObject().getUid()))
                .extracting(Event::getReason).contains("MissedSchedule"));
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupPolicy.class).withName("late").get()
                .getStatus().nextScheduleTime()).isEqualTo(nextBerlin0130(clock.instant()).toString()));
        assertThat(backupsOf("late")).isEmpty();
    }

    @Test
    void aSuspendedPolicyCreatesNothing() {
        Fixtures.node(admin, "s1", Map.of("pool", "s", "blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("paused", "s", 3600)
                + "  suspend: true\n");
        startOperator();
        clock.set(nextBerlin0130(clock.instant()).plusSeconds(1));
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupPolicy.class).withName("paused").get()
                .getStatus().conditions()).anySatisfy(c -> assertThat(c.getReason()).isEqualTo("Suspended")));
        eventually().during(Duration.ofSeconds(1)).until(() -> backupsOf("paused").isEmpty());
    }

    @Test
    void anInvalidTimeZoneIsReportedAsDegraded() {
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("bad-zone", "z", 3600)
                .replace("Europe/Berlin", "Mars/Olympus_Mons"));
        startOperator();
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupPolicy.class).withName("bad-zone").get()
                .getStatus().conditions())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("Degraded");
                    assertThat(c.getStatus()).isEqualTo("True");
                    assertThat(c.getReason()).isEqualTo("InvalidTimeZone");
                    assertThat(c.getMessage()).contains("Mars/Olympus_Mons", "IANA");
                }));
    }

    @Test
    void historyLimitsDeleteOldFinishedBackupsButKeepTheLastFull() {
        Fixtures.node(admin, "h1", Map.of("pool", "h", "blockvault-test", "true"));
        externalRepository("main");
        Fixtures.create(admin, BackupPolicy.class, POLICY.formatted("hist", "h", 3600)
                .replace("    - path: /dev/vd*\n", "") + "  successfulBackupsHistoryLimit: 2\n");
        startOperator();
        Instant tick = clock.instant();
        Set<String> fulls = Set.of();
        for (int day = 0; day < 4; day++) {
            tick = nextBerlin0130(tick);
            clock.set(tick.plusSeconds(1));
            int expected = Math.min(day + 1, 3);
            Instant current = tick;
            eventually().until(() -> backupsOf("hist").stream().anyMatch(b -> b.getMetadata().getLabels()
                    .get(Labels.SCHEDULE_TIME).equals(Long.toString(current.getEpochSecond()))));
            // The agent's part, played by the test: mark it succeeded.
            for (Backup b : backupsOf("hist")) {
                if (b.getStatus() == null) {
                    AgentStatus.succeed(admin, b, current.plusSeconds(60));
                }
            }
            if (day == 0) {
                fulls = backupsOf("hist").stream().map(b -> b.getMetadata().getName()).collect(Collectors.toSet());
            }
            eventually().until(() -> backupsOf("hist").size() <= expected);
        }
        // Limit 2 succeeded plus the last full (day 0), which tells when the next full is due.
        List<Backup> left = backupsOf("hist");
        assertThat(left).hasSize(3);
        assertThat(left).extracting(b -> b.getMetadata().getName()).containsAll(fulls);
    }
}
