package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockvault.agent.backup.BackupResult;
import io.blockvault.agent.modules.ModuleState;
import io.blockvault.agent.snapshot.BlksnapProvider;
import io.blockvault.agent.snapshot.NoSnapProvider;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.snapshot.SnapshotProviders;
import io.blockvault.agent.testing.AgentIdentity;
import io.blockvault.agent.testing.Host;
import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.agent.testing.TestRepository;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Progress;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.repository.client.BackupProgress;
import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.format.PointStats;
import io.blockvault.testing.KubeApiServer;
import io.blockvault.testing.WithKubeApiServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DaemonSet loop against a real kube-apiserver (the CRDs of crds/) and a real repository
 * transport, on loop devices: Running then Succeeded with progress and a committed restore point,
 * an incremental second backup, other nodes' Backups untouched, DeviceNotFound, no rerun after a
 * restart, AgentRestarted for a Backup left Running, at most --concurrency at once.
 */
@WithKubeApiServer
class BackupControllerIT {

    static final String NODE = TestRepository.NODE;
    static final int CHUNK = 1 << 20;
    static final long SIZE = 24L * CHUNK;

    final KubernetesClient client;
    /** The agent's own identity: the chart's ServiceAccount and rules (AgentIdentity). */
    final KubernetesClient agent;
    final KubeApiServer api;
    @TempDir
    Path dir;
    TestRepository repo;
    ConnectionPool pool;
    final List<AutoCloseable> cleanup = new ArrayList<>();
    /** Every (name, phase) the API server reported, in order. */
    final List<String> phasesSeen = new CopyOnWriteArrayList<>();
    SharedIndexInformer<Backup> observer;

    BackupControllerIT(KubeApiServer api, KubernetesClient client) {
        this.api = api;
        this.client = client;
        AgentIdentity.install(client);
        this.agent = AgentIdentity.impersonatingClient(client);
    }

    @BeforeEach
    void start() throws Exception {
        Host.requireRoot();
        deleteBackups();
        repo = TestRepository.start(dir);
        pool = repo.pool(2);
        observer = client.resources(Backup.class).inform(new ResourceEventHandler<Backup>() {
            @Override
            public void onAdd(Backup b) {
                record(b);
            }

            @Override
            public void onUpdate(Backup before, Backup after) {
                record(after);
            }

            @Override
            public void onDelete(Backup b, boolean unknown) {
            }
        });
    }

    void record(Backup b) {
        phasesSeen.add(b.getMetadata().getName() + "=" + (b.getStatus() == null ? null : b.getStatus().phase()));
    }

    @AfterEach
    void stop() throws Exception {
        // Controllers first (they may still read devices), then loop devices: always, in reverse order.
        ControllerTesting.closeAll(cleanup);
        agent.close();
        observer.close();
        deleteBackups();
        pool.close();
        repo.close();
    }

    void deleteBackups() {
        client.resources(Backup.class).delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> client.resources(Backup.class).list().getItems().isEmpty());
    }

    BackupController controller(int concurrency, BackupRunner runner) {
        return controller(Set.of("main"), null, concurrency, runner);
    }

    BackupController controller(Set<String> repositories, String moduleState, int concurrency, BackupRunner runner) {
        BackupController c = new BackupController(agent, new BackupController.Settings(NODE, repositories,
                moduleState, concurrency, Duration.ZERO, Duration.ofSeconds(30), BackupController.Retries.DEFAULT),
                new DeviceResolver(), runner, Clock.systemUTC());
        cleanup.add(c);
        c.start();
        return c;
    }

    BackupRunner engine() {
        return engine(new NoSnapProvider(), Optional.empty());
    }

    BackupRunner engine(SnapshotProvider provider, Optional<ModuleState> modules) {
        ServedRepositories served = new ServedRepositories(Map.of("main",
                new ServedRepositories.Served("main", () -> repo.pool(2), TestRepository.codec())));
        return new EngineBackupRunner(NODE, served, provider,
                new EngineBackupRunner.Tuning(dir, 64L << 20, 2, 2, CHUNK, true, false, 0), Clock.systemUTC(), modules);
    }

    LoopDevice loop(String name) throws Exception {
        return ControllerTesting.filledLoop(dir.resolve(name), SIZE, 11, cleanup);
    }

    Backup create(String name, String node, String device) {
        return create(name, null, "main", node, device);
    }

    Backup create(String name, String policy, String repository, String node, String device) {
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName(name).build());
        b.setSpec(new BackupSpec(policy, repository, node, device, BackupType.Auto));
        return client.resource(b).create();
    }

    Backup get(String name) {
        return client.resources(Backup.class).withName(name).get();
    }

    BackupStatus awaitPhase(String name, BackupPhase phase) {
        return ControllerTesting.awaitPhase(client, Backup.class, name,
                b -> b.getStatus() == null ? null : b.getStatus().phase(), phase).getStatus();
    }

    static Condition agentCondition(BackupStatus s) {
        return ControllerTesting.agentCondition(s.conditions());
    }

    List<String> points() throws Exception {
        return pool.listPoints(Optional.of(NODE)).stream().map(s -> s.ref().pointId()).toList();
    }

    @Test
    void backsUpThisNodesBackupsIncrementallyAndNeverRerunsThem() throws Exception {
        LoopDevice disk = loop("disk0");
        create("other-node", "node-b", disk.device().toString());
        create("first", NODE, disk.device().toString());
        controller(1, engine());

        BackupStatus first = awaitPhase("first", BackupPhase.Succeeded);
        assertThat(phasesSeen).containsSubsequence("first=Running", "first=Succeeded");
        assertThat(first.restorePointId()).isNotBlank();
        assertThat(points()).containsExactly(first.restorePointId());
        assertThat(first.parentRestorePointId()).isNull();
        assertThat(first.mode()).isEqualTo(BackupMode.NoSnap);
        assertThat(first.modeReason()).isNotBlank();
        assertThat(first.crashConsistent()).isFalse();
        assertThat(first.startTime()).isNotBlank();
        assertThat(first.completionTime()).isNotBlank();
        Progress p = first.progress();
        assertThat(p.totalBytes()).isEqualTo(SIZE);
        assertThat(p.scannedBytes()).isEqualTo(SIZE);
        assertThat(p.changedBytes()).isPositive();
        assertThat(p.sentBytes()).isPositive();
        assertThat(p.percent()).isEqualTo(100);
        assertThat(p.bytesPerSecond()).isNotNull();
        assertThat(p.etaSeconds()).isZero();
        assertThat(p.updateTime()).isNotBlank();
        Condition c = agentCondition(first);
        assertThat(c.getStatus()).isEqualTo("False");
        assertThat(c.getReason()).isEqualTo("Succeeded");
        assertThat(get("first").getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
                .contains(StatusWriter.FIELD_MANAGER);

        // A second backup of the same device is an incremental: its parent is the first point.
        byte[] change = new byte[64 << 10];
        new Random(12).nextBytes(change);
        disk.write(5L * CHUNK, change);
        create("second", NODE, disk.device().toString());
        BackupStatus second = awaitPhase("second", BackupPhase.Succeeded);
        assertThat(second.parentRestorePointId()).isEqualTo(first.restorePointId());
        assertThat(second.restorePointId()).isNotEqualTo(first.restorePointId());
        assertThat(second.progress().sentBytes()).isLessThan(first.progress().sentBytes());
        assertThat(points()).containsExactlyInAnyOrder(first.restorePointId(), second.restorePointId());

        // Another node's Backup is never touched.
        Backup other = get("other-node");
        assertThat(other.getStatus()).isNull();
        assertThat(other.getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
                .doesNotContain(StatusWriter.FIELD_MANAGER);

        // A restarted agent does not run finished Backups again.
        String firstVersion = get("first").getMetadata().getResourceVersion();
        String secondVersion = get("second").getMetadata().getResourceVersion();
        cleanup.remove(cleanup.size() - 1).close();
        controller(1, engine());
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).until(() ->
                get("first").getMetadata().getResourceVersion().equals(firstVersion)
                        && get("second").getMetadata().getResourceVersion().equals(secondVersion)
                        && get("other-node").getStatus() == null);
        assertThat(points()).hasSize(2);
    }

    @Test
    void missingDeviceFailsWithDeviceNotFoundAndWhatToDo() {
        create("missing", NODE, "/dev/disk/by-id/blockvault-test-missing");
        create("missing-glob", NODE, "/dev/disk/by-id/blockvault-test-none-*");
        controller(1, engine());

        BackupStatus s = awaitPhase("missing", BackupPhase.Failed);
        assertThat(s.reason()).isEqualTo("DeviceNotFound");
        assertThat(s.message()).contains("/dev/disk/by-id/blockvault-test-missing", "does not exist on this node",
                "check spec.device");
        assertThat(s.completionTime()).isNotBlank();
        assertThat(agentCondition(s).getReason()).isEqualTo("DeviceNotFound");
        assertThat(agentCondition(s).getStatus()).isEqualTo("False");

        BackupStatus glob = awaitPhase("missing-glob", BackupPhase.Failed);
        assertThat(glob.reason()).isEqualTo("DeviceNotFound");
        assertThat(glob.message()).contains("no device on this node matches /dev/disk/by-id/blockvault-test-none-*");
    }

    /**
     * One agent per node, whatever the number of policies: it runs the Backups of every policy and of
     * every repository it serves, each with its repository's name and its policy's settings read
     * when the backup starts; a Backup naming a repository it does not serve stays unclaimed until an
     * agent configured with it starts.
     */
    @Test
    void oneAgentRunsEveryPolicysBackupsWithThatPolicysSettings() throws Exception {
        client.resource(Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: core
                spec:
                  repository: offsite
                  devices:
                    - path: /dev/zero
                  schedule: "@daily"
                  bandwidthLimitMiBps: 8
                  diffStorage:
                    directory: /var/lib/bv-core-diff
                    limitMiB: 512
                """, BackupPolicy.class)).create();
        cleanup.add(() -> client.resources(BackupPolicy.class).withName("core").delete());
        Map<String, String> ran = new ConcurrentHashMap<>();
        Map<String, PolicyTuning> tunings = new ConcurrentHashMap<>();
        BackupRunner recording = (repository, device, full, policy, listener) -> {
            ran.put(device.toString(), repository);
            tunings.put(device.toString(), policy);
            return new BackupResult(NODE, "p-" + System.nanoTime(), device.toString(), "null", 0, BackupMode.NoSnap,
                    "test", "nosnap", false, Optional.empty(), PointStats.EMPTY, 0, 1, false, List.of());
        };
        controller(Set.of("main", "offsite"), null, 1, recording);
        create("on-demand", null, "offsite", NODE, "/dev/null");
        create("of-core", "core", "offsite", NODE, "/dev/zero");
        create("of-edge", "edge", "main", NODE, "/dev/full");
        create("unserved", "edge", "elsewhere", NODE, "/dev/random");

        awaitPhase("on-demand", BackupPhase.Succeeded);
        awaitPhase("of-core", BackupPhase.Succeeded);
        awaitPhase("of-edge", BackupPhase.Succeeded);
        assertThat(ran).containsOnly(Map.entry("/dev/null", "offsite"), Map.entry("/dev/zero", "offsite"),
                Map.entry("/dev/full", "main"));
        assertThat(tunings.get("/dev/zero")).isEqualTo(new PolicyTuning(Path.of("/var/lib/bv-core-diff"),
                512L << 20, 8L << 20));
        // No policy (on demand), or a policy that does not exist (edge): the agent's own defaults.
        assertThat(tunings.get("/dev/null")).isEqualTo(PolicyTuning.NONE);
        assertThat(tunings.get("/dev/full")).isEqualTo(PolicyTuning.NONE);

        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
                get("unserved").getStatus() == null);
        assertThat(get("unserved").getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
                .doesNotContain(StatusWriter.FIELD_MANAGER);
        Map<String, String> later = new ConcurrentHashMap<>();
        controller(Set.of("elsewhere"), null, 1, (repository, device, full, policy, listener) -> {
            later.put(device.toString(), repository);
            return recording.run(repository, device, full, policy, listener);
        });
        awaitPhase("unserved", BackupPhase.Succeeded);
        assertThat(later).containsOnly(Map.entry("/dev/random", "elsewhere"));
    }

    /**
     * RBAC proven by use: the agent runs as the chart's ServiceAccount; without the chart's rule to
     * get BackupPolicies, a policy's Backup fails saying which permission is missing.
     */
    @Test
    void withoutTheRuleToReadItsPolicyABackupFailsNamingTheMissingPermission() throws Exception {
        client.resource(Serialization.unmarshal("""
                apiVersion: blockvault.io/v1alpha1
                kind: BackupPolicy
                metadata:
                  name: guarded
                spec:
                  repository: main
                  devices:
                    - path: /dev/null
                  schedule: "@daily"
                """, BackupPolicy.class)).create();
        cleanup.add(() -> client.resources(BackupPolicy.class).withName("guarded").delete());
        AgentIdentity.installWithout(client, rule -> rule.getResources().contains("backuppolicies"));
        cleanup.add(() -> {
            AgentIdentity.install(client);
            await().atMost(Duration.ofSeconds(30)).until(() -> AgentIdentity.allowed(agent, "backuppolicies", "get"));
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> !AgentIdentity.allowed(agent, "backuppolicies", "get"));
        List<Path> ran = new CopyOnWriteArrayList<>();
        controller(1, recording(ran));
        create("needs-policy", "guarded", "main", NODE, "/dev/null");

        BackupStatus s = awaitPhase("needs-policy", BackupPhase.Failed);
        assertThat(s.reason()).isEqualTo("PolicyUnreadable");
        assertThat(s.message()).contains("BackupPolicy 'guarded'", "HTTP 403",
                "needs get on backuppolicies.blockvault.io");
        assertThat(ran).as("nothing was backed up").isEmpty();
    }

    /**
     * A repository that stays away: the backup is tried 1 + retries times, then fails
     * RepositoryUnavailable naming the attempts; a failure that would recur (RepositoryFull) is not retried.
     */
    @Test
    void transientRepositoryFailuresAreRetriedABoundedNumberOfTimesOthersNot() throws Exception {
        List<Path> ran = new CopyOnWriteArrayList<>();
        BackupController c = new BackupController(agent, new BackupController.Settings(NODE, Set.of("main"), null,
                1, Duration.ZERO, Duration.ofSeconds(30), new BackupController.Retries(2, Duration.ofMillis(50))),
                new DeviceResolver(), (repository, device, full, policy, listener) -> {
                    ran.add(device);
                    if (device.toString().equals("/dev/null")) {
                        throw new java.io.IOException("upload failed", new java.net.ConnectException(
                                "Connection refused"));
                    }
                    throw new io.blockvault.repository.client.RepositoryException(
                            io.blockvault.repository.client.RepositoryException.Reason.QUOTA_EXCEEDED, "quota");
                }, Clock.systemUTC());
        cleanup.add(c);
        c.start();
        create("away", NODE, "/dev/null");
        BackupStatus s = awaitPhase("away", BackupPhase.Failed);
        assertThat(s.reason()).isEqualTo("RepositoryUnavailable");
        assertThat(s.message()).contains("cannot reach the repository", "(attempt 3; the earlier attempts failed: ");
        assertThat(ran).containsExactly(Path.of("/dev/null"), Path.of("/dev/null"), Path.of("/dev/null"));

        ran.clear();
        create("full", NODE, "/dev/zero");
        assertThat(awaitPhase("full", BackupPhase.Failed).reason()).isEqualTo("RepositoryFull");
        assertThat(ran).containsExactly(Path.of("/dev/zero"));
    }

    static BackupRunner recording(List<Path> ran) {
        return (repository, device, full, policy, listener) -> {
            ran.add(device);
            return new BackupResult(NODE, "p-" + System.nanoTime(), device.toString(), "null", 0, BackupMode.NoSnap,
                    "test", "nosnap", false, Optional.empty(), PointStats.EMPTY, 0, 1, false, List.of());
        };
    }

    /**
     * The init container's verdict reaches the Backup: status.moduleState carries its reason; a NoSnap
     * backup says why there was no module; an agent told to use blksnap fails with that reason
     * instead of reading the live device, and its failed Backup has the moduleState too.
     */
    @Test
    void theModuleLoadersReasonIsReportedWithoutASnapshotModule() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(SnapshotProviders.moduleLoaded(),
                "SKIPPED: the blksnap module is loaded on this host; the test needs a host without it");
        LoopDevice disk = loop("disk-nomod");
        Optional<ModuleState> secureBoot = Optional.of(new ModuleState(ModuleState.Reason.SecureBootKeyMissing,
                "Secure Boot is on and the kernel rejected the signature of bdevfilter"));
        controller(Set.of("main"), "SecureBootKeyMissing", 1, engine(new NoSnapProvider(), secureBoot));
        create("nosnap", NODE, disk.device().toString());
        BackupStatus s = awaitPhase("nosnap", BackupPhase.Succeeded);
        assertThat(s.mode()).isEqualTo(BackupMode.NoSnap);
        assertThat(s.modeReason()).contains("SecureBootKeyMissing: Secure Boot is on");
        assertThat(s.moduleState()).isEqualTo("SecureBootKeyMissing");
        cleanup.remove(cleanup.size() - 1).close();

        controller(Set.of("main"), "SecureBootKeyMissing", 1, engine(new BlksnapProvider(), secureBoot));
        create("needs-module", NODE, disk.device().toString());
        BackupStatus f = awaitPhase("needs-module", BackupPhase.Failed);
        assertThat(f.reason()).isEqualTo("SecureBootKeyMissing");
        assertThat(f.message()).contains("no blksnap module on this node", "rejected the signature");
        assertThat(f.moduleState()).isEqualTo("SecureBootKeyMissing");
    }

    @Test
    void backupLeftRunningByAPreviousAgentIsFailedNotRerun() throws Exception {
        create("interrupted", NODE, "/dev/null");
        new StatusWriter(client, Backup.class).apply("interrupted", Map.of("phase", "Running", "startTime",
                "2026-01-01T00:00:00Z"));
        List<Path> ran = new CopyOnWriteArrayList<>();
        controller(1, (repository, device, full, policy, listener) -> {
            ran.add(device);
            throw new IllegalStateException("must not run");
        });

        BackupStatus s = awaitPhase("interrupted", BackupPhase.Failed);
        assertThat(s.reason()).isEqualTo(BackupController.AGENT_RESTARTED);
        assertThat(s.message()).contains("restarted", "nothing was committed", "create a new Backup");
        assertThat(s.startTime()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(ran).isEmpty();
    }

    @Test
    void atMostConcurrencyBackupsRunAndTheOthersWaitPending() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        controller(1, (repository, device, full, policy, listener) -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new BackupResult(NODE, "p-" + System.nanoTime(), device.toString(), "null", 0, BackupMode.NoSnap,
                    "test", "nosnap", false, Optional.empty(), PointStats.EMPTY, 0, 1, false, List.of());
        });
        create("one", NODE, "/dev/null");
        create("two", NODE, "/dev/null");

        await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<BackupPhase> phases = List.of(get("one"), get("two")).stream()
                    .map(b -> b.getStatus() == null ? null : b.getStatus().phase()).toList();
            return phases.contains(BackupPhase.Running) && phases.contains(BackupPhase.Pending);
        });
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                List.of(get("one"), get("two")).stream().filter(b -> b.getStatus().phase() == BackupPhase.Running)
                        .count() == 1);
        Backup waiting = List.of(get("one"), get("two")).stream()
                .filter(b -> b.getStatus().phase() == BackupPhase.Pending).findFirst().orElseThrow();
        assertThat(agentCondition(waiting.getStatus()).getReason()).isEqualTo("Queued");

        release.countDown();
        awaitPhase("one", BackupPhase.Succeeded);
        awaitPhase("two", BackupPhase.Succeeded);
    }

    /**
     * The agent process as the DaemonSet starts it: a key directory, the certificate checked for a
     * name, the init container's state file (its reason becomes every Backup's status.moduleState),
     * the policy's bandwidth limit.
     */
    @Test
    void runnerJarRunsTheLoopWithKubeconfigAndNodeNameFromTheEnvironment() throws Exception {
        LoopDevice disk = loop("disk1");
        Path keys = TestRepository.writeKeyDir(Files.createDirectories(dir.resolve("keys")), "key-1", 1);
        Path moduleState = dir.resolve("module-state");
        new ModuleState(ModuleState.Reason.SecureBootKeyMissing, "Secure Boot is on and the kernel rejected the "
                + "signature of bdevfilter").write(moduleState);
        Path log = dir.resolve("agent.log");
        Path jar;
        try (var files = Files.list(Path.of("target"))) {
            jar = files.filter(f -> f.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow(() ->
                    new IllegalStateException("the runner jar is missing; run ./mvnw -pl node-agent verify"));
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toAbsolutePath().toString(), "run", "--repository", repo.address(), "--ca-file",
                repo.caFile().toString(), "--server-name", "localhost", "--token-file", repo.tokenFile().toString(),
                "--key-dir", keys.toString(), "--module-state-file", moduleState.toString(),
                "--repository-name", "main", "--snapshot", "nosnap", "--diff-storage", dir.toString(), "--workers",
                "2", "--concurrency", "1", "--bandwidth-limit-mibps", "256", "--restore-file-dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("KUBECONFIG", api.kubeconfig().toString());
        pb.environment().put("NODE_NAME", NODE);
        Process agent = pb.start();
        cleanup.add(() -> {
            agent.destroy(); // SIGTERM: the DaemonSet's stop
            if (!agent.waitFor(30, TimeUnit.SECONDS)) {
                agent.destroyForcibly();
            }
        });
        create("from-process", NODE, disk.device().toString());

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            assertThat(agent.isAlive()).as(() -> readLog(log)).isTrue();
            Backup b = get("from-process");
            assertThat(b.getStatus()).isNotNull();
            assertThat(b.getStatus().phase()).as(() -> readLog(log)).isEqualTo(BackupPhase.Succeeded);
        });
        assertThat(points()).containsExactly(get("from-process").getStatus().restorePointId());
        assertThat(get("from-process").getStatus().moduleState()).isEqualTo("SecureBootKeyMissing");

        // The same process runs a Restore of that Backup to a file.
        Path image = dir.resolve("from-process.img");
        Restore restore = new Restore();
        restore.setMetadata(new ObjectMetaBuilder().withName("from-process").build());
        restore.setSpec(new RestoreSpec("main", new RestoreSpec.Source("from-process", null),
                new RestoreSpec.Target(NODE, null, image.toString(), null), false));
        client.resource(restore).create();
        cleanup.add(() -> client.resources(Restore.class).delete());
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            Restore r = client.resources(Restore.class).withName("from-process").get();
            assertThat(r.getStatus()).as(() -> readLog(log)).isNotNull();
            assertThat(r.getStatus().phase()).as(() -> readLog(log)).isEqualTo(BackupPhase.Succeeded);
        });
        assertThat(Files.readAllBytes(image)).isEqualTo(disk.readDevice());

        agent.destroy();
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("the agent stops on SIGTERM").isTrue();
        assertThat(readLog(log)).contains("watching Backups and Restores of node " + NODE)
                .doesNotContain("\tat "); // no stack trace
    }

    static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Test
    void progressIsWrittenWhileRunning() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        controller(1, (repository, device, full, policy, listener) -> {
            listener.progress(new BackupProgress(8L << 20, 8L << 20, 4L << 20, 2L << 20, 1L << 20, 1, 0, 0,
                    1_048_576.0, java.util.OptionalLong.of(4), false));
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new BackupResult(NODE, "p-progress", device.toString(), "null", 8L << 20, BackupMode.NoSnap,
                    "test", "nosnap", false, Optional.empty(), new PointStats(8L << 20, 1L << 20, 1, 0, 7), 8, 1000,
                    false, List.of());
        });
        create("progressing", NODE, "/dev/null");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            BackupStatus s = get("progressing").getStatus();
            assertThat(s.phase()).isEqualTo(BackupPhase.Running);
            assertThat(s.progress()).isNotNull();
            assertThat(s.progress().percent()).isEqualTo(50);
            assertThat(s.progress().scannedBytes()).isEqualTo(4L << 20);
            assertThat(s.progress().changedBytes()).isEqualTo(2L << 20);
            assertThat(s.progress().sentBytes()).isEqualTo(1L << 20);
            assertThat(s.progress().bytesPerSecond()).isEqualTo(1_048_576L);
            assertThat(s.progress().etaSeconds()).isEqualTo(4L);
            assertThat(s.startTime()).isNotBlank();
            assertThat(agentCondition(s).getStatus()).isEqualTo("True");
            assertThat(agentCondition(s).getReason()).isEqualTo("Running");
        });
        release.countDown();
        BackupStatus done = awaitPhase("progressing", BackupPhase.Succeeded);
        assertThat(done.restorePointId()).isEqualTo("p-progress");
        assertThat(done.progress().percent()).isEqualTo(100);
        assertThat(done.progress().scannedBytes()).isEqualTo(8L << 20);
    }
}
