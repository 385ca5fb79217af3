package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockvault.agent.backup.BackupEngine;
import io.blockvault.agent.backup.BackupResult;
import io.blockvault.agent.backup.BackupSettings;
import io.blockvault.agent.restore.RestoreEngine;
import io.blockvault.agent.restore.RestoreResult;
import io.blockvault.agent.restore.RestoreSettings;
import io.blockvault.agent.snapshot.NoSnapProvider;
import io.blockvault.agent.testing.AgentIdentity;
import io.blockvault.agent.testing.Host;
import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.agent.testing.TestRepository;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.api.v1alpha1.RestoreStatus;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RestoreProgress;
import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.WithKubeApiServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restores in {@code run} mode against a real kube-apiserver and a real repository transport, on
 * loop devices: by Backup name to a device and by point id to a file, byte for byte; other nodes'
 * Restores untouched, never rerun; another repository's Restores left to its agent; mounted targets,
 * PVC targets, files outside the restore directory, a Backup of another repository and a missing
 * Backup refused with their reasons; progress while running; a Restore left Running fails.
 */
@WithKubeApiServer
class RestoreControllerIT {

    static final String NODE = TestRepository.NODE;
    static final int CHUNK = 1 << 20;
    static final long SIZE = 16L * CHUNK;

    final KubernetesClient client;
    /** The agent's own identity: the chart's ServiceAccount and rules (AgentIdentity). */
    final KubernetesClient agent;
    @TempDir
    Path dir;
    TestRepository repo;
    ConnectionPool pool;
    final List<AutoCloseable> cleanup = new ArrayList<>();

    RestoreControllerIT(KubeApiServer api, KubernetesClient client) {
        this.client = client;
        AgentIdentity.install(client);
        this.agent = AgentIdentity.impersonatingClient(client);
    }

    @BeforeEach
    void start() throws Exception {
        Host.requireRoot();
        deleteAll();
        repo = TestRepository.start(dir);
        pool = repo.pool(2);
    }

    @AfterEach
    void stop() throws Exception {
        ControllerTesting.closeAll(cleanup);
        agent.close();
        deleteAll();
        pool.close();
        repo.close();
    }

    void deleteAll() {
        client.resources(Restore.class).delete();
        client.resources(Backup.class).delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> client.resources(Restore.class).list().getItems().isEmpty()
                && client.resources(Backup.class).list().getItems().isEmpty());
    }

    RestoreController controller(RestoreController.RestoreRunner runner) {
        return controller("main", runner);
    }

    RestoreController controller(String repository, RestoreController.RestoreRunner runner) {
        RestoreController c = new RestoreController(agent, new RestoreController.Settings(NODE, java.util.Set.of(repository),
                dir, Duration.ZERO, Duration.ofSeconds(30)), runner, Clock.systemUTC());
        cleanup.add(c);
        c.start();
        return c;
    }

    /** The runner `run` uses: the engine over a repository opened per restore. */
    RestoreController.RestoreRunner engine() {
        return (repository, point, target, force, listener) -> {
            try (Repository r = repo.pool(2)) {
                return new RestoreEngine(r, TestRepository.codec(), device -> Optional.empty()).restore(point,
                        new RestoreSettings(target, force, false, 2, true), listener);
            }
        };
    }

    LoopDevice loop(String name, long seed) throws Exception {
        return ControllerTesting.filledLoop(dir.resolve(name), SIZE, seed, cleanup);
    }

    /** A restore point of {@code source} and a Succeeded Backup object that names it, as the agent leaves them. */
    String backedUp(String backupName, LoopDevice source) throws Exception {
        BackupResult r = new BackupEngine(pool, TestRepository.codec(), new NoSnapProvider(), Clock.systemUTC())
                .backup(new BackupSettings(NODE, source.device(), false, dir, 64L << 20, 2, 2, 0, CHUNK, true, false,
                        Optional.empty()), p -> { });
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName(backupName).build());
        b.setSpec(new BackupSpec(null, "main", NODE, source.device().toString(), BackupType.Auto));
        client.resource(b).create();
        new StatusWriter(client, Backup.class).apply(backupName, Map.of("phase", "Succeeded", "restorePointId",
                r.pointId()));
        return r.pointId();
    }

    Restore create(String name, String repository, RestoreSpec.Source source, RestoreSpec.Target target,
            boolean force) {
        Restore r = new Restore();
        r.setMetadata(new ObjectMetaBuilder().withName(name).build());
        r.setSpec(new RestoreSpec(repository, source, target, force));
        return client.resource(r).create();
    }

    static RestoreSpec.Source fromBackup(String backup) {
        return new RestoreSpec.Source(backup, null);
    }

    static RestoreSpec.Target device(String node, Path device) {
        return new RestoreSpec.Target(node, device.toString(), null, null);
    }

    Restore get(String name) {
        return client.resources(Restore.class).withName(name).get();
    }

    RestoreStatus awaitPhase(String name, BackupPhase phase) {
        return ControllerTesting.awaitPhase(client, Restore.class, name,
                r -> r.getStatus() == null ? null : r.getStatus().phase(), phase).getStatus();
    }

    static Condition agentCondition(RestoreStatus s) {
        return ControllerTesting.agentCondition(s.conditions());
    }

    @Test
    void restoresByBackupToADeviceAndByPointIdToAFileAndNeverRerunsThem() throws Exception {
        LoopDevice source = loop("source", 1);
        String point = backedUp("nightly", source);
        LoopDevice target = loop("target", 2);
        Path file = dir.resolve("restored.img");
        create("other-node", "main", fromBackup("nightly"), device("node-b", target.device()), false);
        create("to-device", "main", fromBackup("nightly"), device(NODE, target.device()), false);
        create("to-file", "main", new RestoreSpec.Source(null, point),
                new RestoreSpec.Target(NODE, null, file.toString(), null), false);
        controller(engine());

        RestoreStatus s = awaitPhase("to-device", BackupPhase.Succeeded);
        assertThat(target.readDevice()).isEqualTo(source.readDevice());
        assertThat(s.restorePointId()).isEqualTo(point);
        assertThat(s.quickRollback()).isFalse();
        assertThat(s.startTime()).isNotBlank();
        assertThat(s.completionTime()).isNotBlank();
        assertThat(s.progress().percent()).isEqualTo(100);
        assertThat(s.progress().totalBytes()).isEqualTo(SIZE);
        assertThat(s.progress().updateTime()).isNotBlank();
        assertThat(s.message()).contains(NODE + "/" + point, target.device().toString(), "verified");
        assertThat(agentCondition(s).getStatus()).isEqualTo("False");
        assertThat(agentCondition(s).getReason()).isEqualTo("Succeeded");
        assertThat(get("to-device").getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
                .contains(StatusWriter.FIELD_MANAGER);

        awaitPhase("to-file", BackupPhase.Succeeded);
        assertThat(Files.readAllBytes(file)).isEqualTo(source.readDevice());

        assertThat(get("other-node").getStatus()).isNull();

        // A restarted agent does not write finished Restores again.
        String version = get("to-device").getMetadata().getResourceVersion();
        cleanup.remove(cleanup.size() - 1).close();
        List<Path> ran = new CopyOnWriteArrayList<>();
        controller((repository, p, t, force, listener) -> {
            ran.add(t);
            throw new IllegalStateException("must not run");
        });
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
                get("to-device").getMetadata().getResourceVersion().equals(version)
                        && get("other-node").getStatus() == null);
        assertThat(ran).isEmpty();
    }

    @Test
    void refusalsSayWhyAndWhatToDo() throws Exception {
        LoopDevice source = loop("source", 3);
        String point = backedUp("nightly", source);
        LoopDevice target = loop("mounted", 4);
        Host.ok(dir, "mkfs.ext4", "-q", "-F", target.device().toString());
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Host.ok(dir, "mount", target.device().toString(), mnt.toString());
        cleanup.add(() -> Host.ok(dir, "umount", mnt.toString()));
        List<Path> ran = new CopyOnWriteArrayList<>();
        RestoreController.RestoreRunner real = engine();
        controller((repository, p, t, force, listener) -> {
            ran.add(t);
            return real.run(repository, p, t, force, listener);
        });
        create("mounted", "main", fromBackup("nightly"), device(NODE, target.device()), false);
        create("pvc", "main", fromBackup("nightly"), new RestoreSpec.Target(NODE, null, null,
                new RestoreSpec.PvcTarget("apps", "data")), false);
        create("elsewhere", "offsite", fromBackup("nightly"), device(NODE, target.device()), true);
        Path file = dir.toRealPath().resolve("offsite.img");
        create("offsite-point", "offsite", new RestoreSpec.Source(null, point),
                new RestoreSpec.Target(NODE, null, file.toString(), null), false);
        create("no-backup", "main", fromBackup("missing"), device(NODE, target.device()), true);
        create("outside", "main", fromBackup("nightly"), new RestoreSpec.Target(NODE, null,
                dir.resolve("../escape.img").toString(), null), false);
        create("no-device", "main", fromBackup("nightly"), device(NODE, Path.of("/dev/blockvault-test-none")),
                false);

        RestoreStatus mounted = awaitPhase("mounted", BackupPhase.Failed);
        assertThat(mounted.reason()).isEqualTo(RestoreController.TARGET_MOUNTED);
        assertThat(mounted.message()).contains("is mounted at " + mnt, "spec.force");
        assertThat(agentCondition(mounted).getReason()).isEqualTo(RestoreController.TARGET_MOUNTED);
        RestoreStatus pvc = awaitPhase("pvc", BackupPhase.Failed);
        assertThat(pvc.reason()).isEqualTo(RestoreController.PVC_UNSUPPORTED);
        assertThat(pvc.message()).contains("apps/data", "spec.target.device");
        RestoreStatus noBackup = awaitPhase("no-backup", BackupPhase.Failed);
        assertThat(noBackup.reason()).isEqualTo("BackupNotFound");
        assertThat(noBackup.message()).contains("'missing'");
        RestoreStatus outside = awaitPhase("outside", BackupPhase.Failed);
        assertThat(outside.reason()).isEqualTo(RestoreFileTarget.OUTSIDE);
        assertThat(outside.message()).contains("is outside the agent's restore directory " + dir.toRealPath(),
                "spec.target.file");
        assertThat(dir.resolve("../escape.img")).doesNotExist();
        RestoreStatus noDevice = awaitPhase("no-device", BackupPhase.Failed);
        assertThat(noDevice.reason()).isEqualTo("DeviceNotFound");
        assertThat(noDevice.message()).contains("/dev/blockvault-test-none", "spec.target.device");
        assertThat(ran).as("nothing was written").isEmpty();
        // A Restore of a repository this agent does not serve: left unclaimed here.
        assertThat(get("elsewhere").getStatus()).isNull();
        assertThat(get("offsite-point").getStatus()).isNull();
        assertThat(file).doesNotExist();

        // An agent serving offsite (here the same transport) runs its Restore by point id, and refuses the
        // one whose Backup 'nightly' was written to main.
        controller("offsite", (repository, p, t, force, listener) -> {
            ran.add(t);
            return real.run(repository, p, t, force, listener);
        });
        awaitPhase("offsite-point", BackupPhase.Succeeded);
        assertThat(Files.readAllBytes(file)).isEqualTo(source.readDevice());
        assertThat(ran).containsExactly(file);
        ran.clear();
        RestoreStatus elsewhere = awaitPhase("elsewhere", BackupPhase.Failed);
        assertThat(elsewhere.reason()).isEqualTo(RestoreController.REPOSITORY_MISMATCH);
        assertThat(elsewhere.message()).contains("written to repository 'main'", "names repository 'offsite'",
                "set spec.repository to 'main'");
        assertThat(ran).isEmpty();

        // With force the mounted device is written (the user's explicit choice).
        create("forced", "main", fromBackup("nightly"), device(NODE, target.device()), true);
        awaitPhase("forced", BackupPhase.Succeeded);
        assertThat(ran).containsExactly(target.device());
    }

    @Test
    void progressIsWrittenWhileRunningAndARestoreLeftRunningFails() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        controller((repository, point, target, force, listener) -> {
            listener.progress(new RestoreProgress(8L << 20, 2L << 20, 1L << 20, 1_048_576.0, OptionalLong.of(6),
                    false));
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new RestoreResult(point.node(), point.pointId(), target.toString(), 8L << 20, 8L << 20, 8, 8, false,
                    "a full restore was asked for", 1000, true, List.of());
        });
        create("progressing", "main", new RestoreSpec.Source(null, "p-1"), device(NODE, Path.of("/dev/null")),
                false);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            RestoreStatus s = get("progressing").getStatus();
            assertThat(s.phase()).isEqualTo(BackupPhase.Running);
            assertThat(s.restorePointId()).isEqualTo("p-1");
            assertThat(s.progress()).isNotNull();
            assertThat(s.progress().percent()).isEqualTo(25);
            assertThat(s.progress().scannedBytes()).isEqualTo(2L << 20);
            assertThat(s.progress().etaSeconds()).isEqualTo(6L);
            assertThat(agentCondition(s).getReason()).isEqualTo("Running");
        });
        // The agent stops during the restore; the next one must not leave it Running or write again.
        cleanup.remove(cleanup.size() - 1).close();
        release.countDown();
        assertThat(get("progressing").getStatus().phase()).isEqualTo(BackupPhase.Running);
        List<Path> ran = new CopyOnWriteArrayList<>();
        controller((repository, p, t, force, listener) -> {
            ran.add(t);
            throw new IllegalStateException("must not run");
        });
        RestoreStatus s = awaitPhase("progressing", BackupPhase.Failed);
        assertThat(s.reason()).isEqualTo(BackupController.AGENT_RESTARTED);
        assertThat(s.message()).contains("partly written", "create a new Restore");
        assertThat(s.restorePointId()).isEqualTo("p-1");
        assertThat(s.startTime()).isNotBlank();
        assertThat(ran).isEmpty();
    }
}
