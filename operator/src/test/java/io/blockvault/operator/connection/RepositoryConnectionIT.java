package io.blockvault.operator.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.BackupRepositoryStatus;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.InProcessRepository;
import io.blockvault.operator.Labels;
import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.backup.BackupReconciler;
import io.blockvault.operator.config.RepositoryAccess;
import io.blockvault.operator.repository.Certificates;
import io.blockvault.operator.retention.GfsRetention;
import io.blockvault.operator.retention.RestorePoint;
import io.blockvault.operator.retention.RetentionPruner;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.format.RestorePointIndex;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator against a real repository transport in the test process, serving with the TLS
 * Secret the operator generated for a managed repository and dialled through
 * {@code repository-connect-address} while the certificate is verified for the Service name:
 * status figures, retention and restore point deletion. The guard runs in-process a cycle at a
 * time; it needs root (FS_IMMUTABLE_FL), so the retention and deletion tests say SKIPPED otherwise.
 */
class RepositoryConnectionIT extends OperatorTestBase {

    private static final String NS = OperatorIdentity.NAMESPACE;
    private static final String SERVICE_NAME = "vault-repository." + NS + ".svc";
    private static final String DISK = "/dev/disk/by-id/nvme-disk-1";
    private static final String OTHER_DISK = "/dev/disk/by-id/nvme-disk-2";
    private static final String POLICY_DEVICE = "/dev/disk/by-id/nvme-*";
    private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

    @TempDir
    Path dir;
    InProcessRepository repo;

    RepositoryConnectionIT(KubernetesClient admin) {
        super(admin);
    }

    @AfterEach
    void closeRepository() throws IOException {
        if (repo != null) {
            repo.close();
        }
    }

    /** Noon UTC {@code days} days ago: day boundaries never fall between points meant for one day. */
    private static Instant daysAgo(int days) {
        return TODAY.minusDays(days).atTime(12, 0).toInstant(ZoneOffset.UTC);
    }

    private static String text(Secret s, String key) {
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.US_ASCII);
    }

    /**
     * A managed repository 'vault': the operator generates its CA and TLS Secrets, the test's
     * transport serves with them, and the operator is restarted dialling it at 127.0.0.1.
     */
    private void managedRepositoryServedInProcess() throws Exception {
        Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: vault
                spec:
                  mode: Managed
                  immutabilityDays: 1
                """);
        startOperator();
        eventually().until(() -> admin.secrets().inNamespace(NS).withName("vault-repository-tls").get() != null);
        stopOperator();
        Secret tls = admin.secrets().inNamespace(NS).withName("vault-repository-tls").get();
        Secret ca = admin.secrets().inNamespace(NS).withName("vault-repository-ca").get();
        repo = InProcessRepository.start(dir.resolve("repository"), text(tls, "tls.crt"), text(tls, "tls.key"),
                text(ca, "ca.crt"), SERVICE_NAME);
        access = new RepositoryAccess(repo.operatorTokenFile(), Optional.of(RepositoryAccess.HostPort.parse("test",
                repo.address())), Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofMinutes(15));
    }

    private BackupRepositoryStatus repositoryStatus(String name) {
        return admin.resources(BackupRepository.class).withName(name).get().getStatus();
    }

    private static Condition condition(List<Condition> conditions, String type) {
        return conditions == null ? null : conditions.stream().filter(c -> type.equals(c.getType())).findFirst()
                .orElse(null);
    }

    private double meter(String name, String repository) {
        var search = operator.registry().find(name).tag("repository", repository);
        return search.gauge() != null ? search.gauge().value() : search.counter().count();
    }

    private List<Event> events(String object, String reason) {
        return admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> object.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason())).toList();
    }

    @Test
    void repositoryStatusComesFromTheRepository() throws Exception {
        managedRepositoryServedInProcess();
        // The same data twice: two points, chunks stored once.
        repo.backup(InProcessRepository.NODE_A, "a1", 1);
        repo.backup(InProcessRepository.NODE_A, "a2", 1);
        // The same transport as an External repository: its endpoint is the name the certificate carries.
        Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: outside
                spec:
                  mode: External
                  external:
                    endpoint: %s:6162
                    caBundle: |
                %s
                """.formatted(SERVICE_NAME, text(admin.secrets().inNamespace(NS).withName("vault-repository-ca")
                .get(), "ca.crt").indent(6).stripTrailing()));
        startOperator();

        RepositoryStats stats = repo.stats();
        // Twice the same data: the logical bytes are twice what one point references, stored once.
        assertThat(stats.dedupRatio()).isGreaterThan(1.9);
        double dedup = Math.round(stats.dedupRatio() * 100) / 100.0;
        for (String name : List.of("vault", "outside")) {
            eventually().untilAsserted(() -> {
                BackupRepositoryStatus status = repositoryStatus(name);
                assertThat(status.restorePoints()).isEqualTo(2);
                assertThat(status.capacityBytes()).isEqualTo(stats.capacityBytes());
                assertThat(status.usedBytes()).isPositive().isLessThanOrEqualTo(status.capacityBytes());
                assertThat(status.dedupRatio()).isEqualTo(dedup);
                Condition ready = condition(status.conditions(), "Ready");
                assertThat(ready.getStatus()).isEqualTo("True");
                assertThat(ready.getReason()).isEqualTo("Connected");
                assertThat(ready.getMessage()).contains("connected as operator", "2 restore points");
            });
            assertThat(meter("blockvault.repository.up", name)).isEqualTo(1.0);
            assertThat(meter("blockvault.repository.restore.points", name)).isEqualTo(2.0);
            assertThat(meter("blockvault.repository.capacity.bytes", name)).isPositive();
            assertThat(meter("blockvault.repository.used.bytes", name)).isPositive();
            assertThat(meter("blockvault.repository.dedup.ratio", name)).isEqualTo(stats.dedupRatio());
            assertThat(meter("blockvault.repository.clock.warning", name)).isZero();
        }

        // The repository goes away: not Ready, with the reason and what to check; figures stay as last known.
        repo.stop();
        eventually().untilAsserted(() -> {
            BackupRepositoryStatus status = repositoryStatus("outside");
            Condition ready = condition(status.conditions(), "Ready");
            assertThat(ready.getStatus()).isEqualTo("False");
            assertThat(ready.getReason()).isEqualTo(RepositoryUnavailableException.UNREACHABLE);
            assertThat(ready.getMessage()).contains("could not connect to repository outside at " + SERVICE_NAME
                    + ":6162 (dialled at " + repo.address() + ")", "check that the repository pod runs");
            assertThat(status.restorePoints()).isEqualTo(2);
        });
        eventually().untilAsserted(() -> {
            // A managed repository without a ready pod says it is starting, with the connection error.
            Condition ready = condition(repositoryStatus("vault").conditions(), "Ready");
            assertThat(ready.getReason()).isEqualTo("RepositoryStarting");
            assertThat(ready.getMessage()).contains("could not connect");
        });
        assertThat(meter("blockvault.repository.up", "vault")).isZero();
        assertThat(meter("blockvault.repository.up", "outside")).isZero();
    }

    @Test
    void aFrozenGuardClockIsDegradedWithTheWayOut() throws Exception {
        assumeTrue(InProcessRepository.runningAsRoot(), "SKIPPED: the repository's guard must run as root to seal "
                + "what it stores");
        managedRepositoryServedInProcess();
        repo.backup(InProcessRepository.NODE_A, "f1", 1);
        repo.guardCycle();
        repo.stepWallClock(Duration.ofDays(2)); // beyond the guard's one-day bound
        repo.guardCycle();
        assertThat(repo.stats().clockFrozen()).hasValueSatisfying(f -> assertThat(f).contains("172800 s off"));
        startOperator();
        eventually().untilAsserted(() -> {
            Condition degraded = condition(repositoryStatus("vault").conditions(), "Degraded");
            assertThat(degraded.getStatus()).isEqualTo("True");
            assertThat(degraded.getReason()).isEqualTo("GuardClockFrozen");
            assertThat(degraded.getMessage()).contains("172800 s off the trusted clock", "deletes nothing",
                    "clock-accept");
            assertThat(condition(repositoryStatus("vault").conditions(), "Ready").getStatus()).isEqualTo("True");
        });
        assertThat(meter("blockvault.repository.clock.frozen", "vault")).isEqualTo(1.0);
    }

    @Test
    void connectionProblemsAreReportedWithWhatToDo() throws Exception {
        managedRepositoryServedInProcess();
        // Another CA than the one that signed the repository's certificate.
        Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: stranger
                spec:
                  mode: External
                  external:
                    endpoint: %s:6162
                    caBundle: |
                %s
                """.formatted(SERVICE_NAME, Certificates.newCa("someone else", Instant.now(), Duration.ofDays(1))
                .certificatePem().indent(6).stripTrailing()));
        RepositoryAccess working = access;
        access = new RepositoryAccess(dir.resolve("no-such-token"), working.connectAddress(), working.timeout(),
                working.checkInterval(), working.retentionInterval());
        startOperator();
        eventually().untilAsserted(() -> {
            Condition ready = condition(repositoryStatus("vault").conditions(), "Ready");
            assertThat(ready.getStatus()).isEqualTo("False");
            assertThat(ready.getReason()).isEqualTo(RepositoryUnavailableException.TOKEN_MISSING);
            assertThat(ready.getMessage()).contains(dir.resolve("no-such-token") + " does not exist",
                    "audience blockvault-repository");
        });

        stopOperator();
        access = new RepositoryAccess(Files.writeString(dir.resolve("wrong-token"), "not-the-operator-token"),
                working.connectAddress(), working.timeout(), working.checkInterval(), working.retentionInterval());
        startOperator();
        eventually().untilAsserted(() -> {
            Condition ready = condition(repositoryStatus("vault").conditions(), "Ready");
            assertThat(ready.getStatus()).isEqualTo("False");
            assertThat(ready.getReason()).isEqualTo(RepositoryUnavailableException.TOKEN_REJECTED);
            assertThat(ready.getMessage()).contains("refused the operator's token", "not known to this repository");
        });
        eventually().untilAsserted(() -> {
            Condition ready = condition(repositoryStatus("stranger").conditions(), "Ready");
            assertThat(ready.getStatus()).isEqualTo("False");
            assertThat(ready.getReason()).isEqualTo(RepositoryUnavailableException.UNTRUSTED);
            assertThat(ready.getMessage()).contains("must be signed by the trusted CA and name " + SERVICE_NAME);
        });
    }

    private void backup(String name, String policy, String node, String device, String pointId, boolean deletePoint) {
        Fixtures.create(admin, Backup.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: Backup
                metadata:
                  name: %s
                  annotations:
                    %s: "%s"
                spec:
                  %s
                  repository: vault
                  nodeName: %s
                  device: "%s"
                """.formatted(name, Labels.DELETE_RESTORE_POINT, deletePoint, policy == null ? "" : "policy: " + policy,
                node, device));
        admin.resources(Backup.class).withName(name).editStatus(b -> {
            b.setStatus(new BackupStatus(BackupPhase.Succeeded, null, null, pointId, null, true, null, null,
                    Instant.now().toString(), null, null, null, null, null));
            return b;
        });
    }

    private Set<String> ids(String node, String device) throws IOException {
        return repo.points().stream().filter(p -> p.ref().node().equals(node) && p.device().stableId().equals(device))
                .map(p -> p.ref().pointId()).collect(Collectors.toSet());
    }

    @Test
    void retentionPrunesWhatGfsSaysAndKeepsLockedPoints() throws Exception {
        assumeTrue(InProcessRepository.runningAsRoot(), "SKIPPED: the repository's guard must run as root to seal "
                + "and lock restore points (FS_IMMUTABLE_FL)");
        managedRepositoryServedInProcess();
        RestorePointIndex a = repo.backup(InProcessRepository.NODE_A, "a-first", 1);
        RestorePointIndex b = repo.backup(InProcessRepository.NODE_B, "b-first", 2);
        Map<String, Integer> disk = Map.of("n0", 1, "n1", 2, "n2", 3, "o1", 5, "o3", 10);
        for (var p : disk.entrySet()) {
            repo.commit(a, p.getKey(), DISK, daysAgo(p.getValue()));
        }
        repo.commit(a, "o2", DISK, daysAgo(5).plus(Duration.ofHours(1)));
        repo.commit(a, "x1", OTHER_DISK, daysAgo(20));
        repo.commit(a, "x2", OTHER_DISK, daysAgo(19));
        for (int i = 1; i <= 3; i++) {
            repo.commit(b, "b" + i, DISK, daysAgo(21 - i));
        }
        repo.guardCycle();
        repo.expireLocks();
        // Sealed after the clock moved on: still locked when retention looks.
        repo.commit(a, "o4", DISK, daysAgo(9));
        repo.guardCycle();
        PointSummary o4 = repo.points().stream().filter(p -> p.ref().pointId().equals("o4")).findFirst().orElseThrow();
        assertThat(o4.lockedUntil()).isPresent();

        Fixtures.create(admin, BackupPolicy.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: daily
                spec:
                  repository: vault
                  devices:
                  - path: "%s"
                  schedule: "0 3 1 1 *"
                  retention:
                    keepLast: 2
                    keepDaily: 3
                """.formatted(POLICY_DEVICE));
        // The policy's Backup on node-a names n0: the group (node-a, DISK) is the policy's.
        backup("daily-a", "daily", InProcessRepository.NODE_A, POLICY_DEVICE, "n0", false);
        // node-b's DISK is also written by an on-demand Backup: shared, left alone.
        backup("daily-b", "daily", InProcessRepository.NODE_B, POLICY_DEVICE, "b3", false);
        backup("adhoc-b", null, InProcessRepository.NODE_B, DISK, "b2", false);

        // What GFS says for the group, by the repository's own listing.
        List<RestorePoint> group = repo.points().stream().filter(p -> p.ref().node().equals("node-a")
                && p.device().stableId().equals(DISK)).map(p -> new RestorePoint(p.ref().pointId(), p.startedAt(),
                p.lockedUntil().orElse(null))).toList();
        GfsRetention gfs = new GfsRetention(2, 3, 0, 0, 0, ZoneOffset.UTC);
        assertThat(gfs.toDelete(group, Instant.now()).stream().map(RestorePoint::id)).containsExactly("o3", "o1", "o2");
        assertThat(gfs.notKept(group).stream().map(RestorePoint::id)).contains("o4");

        startOperator();
        eventually().untilAsserted(() -> {
            Condition applied = condition(admin.resources(BackupPolicy.class).withName("daily").get().getStatus()
                    .conditions(), RetentionPruner.CONDITION);
            assertThat(applied.getStatus()).isEqualTo("True");
            assertThat(applied.getMessage()).contains("1 (node, device) groups", "asked the repository to delete 3 "
                    + "restore points, kept 1 that are still immutable (the first lock ends at "
                    + o4.lockedUntil().get() + ")", "skipped devices other Backups also write to: node-b:" + DISK);
        });
        repo.guardCycle(); // the guard carries out the deletions
        assertThat(ids("node-a", DISK)).containsExactlyInAnyOrder("n0", "n1", "n2", "o4");
        assertThat(ids("node-a", OTHER_DISK)).containsExactlyInAnyOrder("x1", "x2");
        assertThat(ids("node-b", DISK)).containsExactlyInAnyOrder("b1", "b2", "b3");
        assertThat(repo.points()).extracting(p -> p.ref().pointId()).contains("a-first", "b-first");
        assertThat(events("daily", "RetentionApplied")).singleElement().satisfies(e -> assertThat(e.getMessage())
                .contains("delete 3 restore points"));
        assertThat(events("daily", "RetentionSkippedSharedDevice")).singleElement().satisfies(e -> assertThat(e
                .getType()).isEqualTo("Warning"));
        assertThat(meter("blockvault.retention.deleted", "vault")).isEqualTo(3.0);
        assertThat(meter("blockvault.retention.locked", "vault")).isEqualTo(1.0);

        // The next pass (interval later) finds nothing more to delete and counts nothing twice.
        String firstPass = condition(admin.resources(BackupPolicy.class).withName("daily").get().getStatus()
                .conditions(), RetentionPruner.CONDITION).getMessage();
        clock.advance(access.retentionInterval().plusSeconds(1));
        eventually().untilAsserted(() -> {
            String message = condition(admin.resources(BackupPolicy.class).withName("daily").get().getStatus()
                    .conditions(), RetentionPruner.CONDITION).getMessage();
            assertThat(message).isNotEqualTo(firstPass).contains("delete 0 restore points, kept 1");
        });
        assertThat(ids("node-a", DISK)).containsExactlyInAnyOrder("n0", "n1", "n2", "o4");
        assertThat(meter("blockvault.retention.deleted", "vault")).isEqualTo(3.0);
        assertThat(meter("blockvault.retention.locked", "vault")).isEqualTo(1.0);
    }

    @Test
    void deletingAnAnnotatedBackupDeletesItsRestorePointOrSaysUntilWhenItIsLocked() throws Exception {
        assumeTrue(InProcessRepository.runningAsRoot(), "SKIPPED: the repository's guard must run as root to seal "
                + "and lock restore points (FS_IMMUTABLE_FL)");
        managedRepositoryServedInProcess();
        RestorePointIndex a = repo.backup(InProcessRepository.NODE_A, "a-first", 1);
        repo.commit(a, "expired", DISK, daysAgo(3));
        repo.guardCycle();
        repo.expireLocks();
        repo.commit(a, "locked", DISK, daysAgo(2));
        repo.guardCycle();
        Instant lockEnd = repo.points().stream().filter(p -> p.ref().pointId().equals("locked")).findFirst()
                .orElseThrow().lockedUntil().orElseThrow();
        backup("gone", null, InProcessRepository.NODE_A, DISK, "expired", true);
        backup("kept", null, InProcessRepository.NODE_A, DISK, "locked", true);
        backup("plain", null, InProcessRepository.NODE_A, DISK, "a-first", false);
        startOperator();
        for (String name : List.of("gone", "kept", "plain")) {
            eventually().until(() -> !admin.resources(Backup.class).withName(name).get().getMetadata().getFinalizers()
                    .isEmpty());
        }
        // The lock the guard set reaches the Backup's status (the agent cannot know it at its commit).
        eventually().until(() -> lockEnd.toString().equals(admin.resources(Backup.class).withName("kept").get()
                .getStatus().immutableUntil()));
        for (String name : List.of("gone", "kept", "plain")) {
            admin.resources(Backup.class).withName(name).delete();
        }

        eventually().until(() -> admin.resources(Backup.class).withName("gone").get() == null
                && admin.resources(Backup.class).withName("plain").get() == null);
        assertThat(events("gone", "RestorePointDeleted")).singleElement().satisfies(e -> assertThat(e.getMessage())
                .contains("node-a/expired", "deletion of node-a/expired recorded"));
        repo.guardCycle();
        assertThat(ids("node-a", DISK)).containsExactlyInAnyOrder("locked");
        // Without the annotation the point stays for retention.
        assertThat(repo.points()).extracting(p -> p.ref().pointId()).contains("a-first");

        eventually().untilAsserted(() -> {
            Backup kept = admin.resources(Backup.class).withName("kept").get();
            assertThat(kept.getMetadata().getDeletionTimestamp()).isNotNull();
            Condition deleted = condition(kept.getStatus().conditions(), BackupReconciler.DELETION_CONDITION);
            assertThat(deleted.getStatus()).isEqualTo("False");
            assertThat(deleted.getReason()).isEqualTo("RestorePointLocked");
            assertThat(deleted.getMessage()).contains("node-a/locked is immutable until " + lockEnd,
                    "remove the annotation " + Labels.DELETE_RESTORE_POINT);
        });
        assertThat(events("kept", "RestorePointLocked")).singleElement().satisfies(e -> assertThat(e.getMessage())
                .contains("until " + lockEnd));

        // The user gives up on deleting the point: the object goes, the point stays. A running operator
        // notices at its next retry (within the hour: a metadata change of an object being deleted
        // does not trigger JOSDK); a restarted one looks at once.
        Fixtures.edit(admin, Backup.class, "kept", k -> {
            k.getMetadata().getAnnotations().remove(Labels.DELETE_RESTORE_POINT);
            return k;
        });
        stopOperator();
        startOperator();
        eventually().until(() -> admin.resources(Backup.class).withName("kept").get() == null);
        assertThat(ids("node-a", DISK)).containsExactlyInAnyOrder("locked");
    }
}
