package io.blockvault.agent.controller;

import io.blockvault.agent.blksnap.SnapshotControl;
import io.blockvault.agent.cli.EngineOptions;
import io.blockvault.agent.cli.Nodes;
import io.blockvault.agent.modules.ModuleState;
import io.blockvault.agent.restore.RestoreEngine;
import io.blockvault.agent.restore.RestoreSettings;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.agent.snapshot.SnapshotProviders;
import io.blockvault.repository.client.Repository;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code blockvault-agent run}: the DaemonSet process, one per node whatever the number of policies.
 * Watches the Backups and Restores of this node for every repository it serves and runs them until
 * SIGTERM. The Kubernetes client comes from the in-cluster service account or KUBECONFIG.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run as the node's agent: watch this node's Backup and Restore objects, run them, report their "
                + "status.")
public final class RunCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"--node-name", "--node"}, paramLabel = "NAME",
            description = "this node's name (default: env NODE_NAME, else the host name)")
    String node;

    @Mixin
    ServedRepositories.Options repositoryOptions;

    @Mixin
    EngineOptions engine;

    @Option(names = "--module-state-file", paramLabel = "FILE", defaultValue = "/run/blockvault/module-state",
            description = "what the init container's build-and-load found; its reason is reported when there is no "
                    + "snapshot module (default: ${DEFAULT-VALUE})")
    Path moduleStateFile;

    @Option(names = "--restore-file-dir", paramLabel = "DIR", defaultValue = "/var/lib/blockvault/restore",
            description = "the directory a Restore's spec.target.file must be in: a host directory mounted at the "
                    + "same path, so the restored file stays on the node (default: ${DEFAULT-VALUE})")
    Path restoreFileDir;

    @Option(names = "--repository-retries", paramLabel = "N", defaultValue = "6",
            description = "times a backup is run again, within the same Backup, after the repository went away "
                    + "(connection refused, reset or closed, a timeout); waits 2 s, 4 s, 8 s, ... before them, "
                    + "about two minutes in all by default: a repository pod its StatefulSet restarts is back "
                    + "and Ready in that time (default: ${DEFAULT-VALUE}; 0: fail at once)")
    int repositoryRetries;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "1",
            description = "backups run at once on this node, of all policies together; the others wait Pending "
                    + "(default: ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--progress-interval-seconds", paramLabel = "S", defaultValue = "5",
            description = "least time between two progress writes to a Backup's status (default: ${DEFAULT-VALUE})")
    int progressIntervalSeconds;

    @Override
    public Integer call() throws Exception {
        if (concurrency < 1 || progressIntervalSeconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--concurrency and "
                    + "--progress-interval-seconds must be positive");
        }
        if (repositoryRetries < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--repository-retries must be 0 or more, got "
                    + repositoryRetries);
        }
        Optional<ModuleState> modules = ModuleState.read(moduleStateFile);
        modules.filter(m -> !m.reason().loaded()).ifPresent(m -> System.err.println("warning: no snapshot module: "
                + m.line()));
        String moduleState = moduleState(modules);
        SnapshotProvider provider = engine.provider(spec.commandLine());
        String nodeName = nodeName();
        ServedRepositories repositories = repositoryOptions.resolve(spec.commandLine());
        EngineBackupRunner runner = new EngineBackupRunner(nodeName, repositories, provider, tuning(),
                Clock.systemUTC(), modules);
        CountDownLatch stopping = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // SIGTERM: stop watching and close in the main thread; the hook waits so the JVM does not halt first.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.countDown();
            try {
                closed.await(40, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "agent-stop"));
        RestoreController.RestoreRunner restorer = (repositoryName, point, target, force, listener) -> {
            ServedRepositories.Served served = repositories.get(repositoryName);
            try (Repository repo = served.connector().open()) {
                // No quick rollback from the cluster yet: always a full, verified write.
                return new RestoreEngine(repo, served.codec(), device -> Optional.empty()).restore(point,
                        new RestoreSettings(target, force, false, engine.uploads(), true), listener);
            }
        };
        Duration progress = Duration.ofSeconds(progressIntervalSeconds);
        try (KubernetesClient client = new KubernetesClientBuilder().build();
                BackupController backups = new BackupController(client, new BackupController.Settings(nodeName,
                        repositories.names(), moduleState, concurrency, progress, Duration.ofMinutes(5),
                        new BackupController.Retries(repositoryRetries,
                                BackupController.Retries.DEFAULT.firstBackoff())),
                        new DeviceResolver(), runner, Clock.systemUTC());
                RestoreController restores = new RestoreController(client, new RestoreController.Settings(nodeName,
                        repositories.names(), restoreFileDir, progress, Duration.ofMinutes(5)), restorer,
                        Clock.systemUTC())) {
            backups.start();
            restores.start();
            System.err.println("blockvault-agent: watching Backups and Restores of node " + nodeName
                    + " for repositories " + String.join(", ", repositories.names())
                    + "; at most " + concurrency + " backups at once; snapshot module: " + moduleState);
            stopping.await();
            System.err.println("blockvault-agent: stopping; a Backup or Restore still running is marked Failed "
                    + "(AgentRestarted) by the next start");
        } finally {
            closed.countDown();
        }
        return 0;
    }

    /** Reported in status.moduleState without a verdict of build-and-load and without a loaded module. */
    static final String NOT_LOADED = "NotLoaded";

    /**
     * The node's snapshot module as every Backup's {@code status.moduleState} reports it: the reason of
     * build-and-load's verdict, else (an agent started without the init container) the module that
     * {@code --snapshot auto} would use, ours or Veeam's, else {@value #NOT_LOADED}.
     */
    static String moduleState(Optional<ModuleState> verdict) {
        if (verdict.isPresent()) {
            return verdict.get().reason().name();
        }
        if (!SnapshotProviders.moduleLoaded()) {
            return NOT_LOADED;
        }
        return (Files.exists(SnapshotControl.DEVICES.get(0)) ? ModuleState.Reason.BlksnapLoaded
                : ModuleState.Reason.VeeamBlksnapLoaded).name();
    }

    /** The engine settings of every backup this agent runs, from the options (checked by the provider's choice). */
    EngineBackupRunner.Tuning tuning() {
        return new EngineBackupRunner.Tuning(engine.diffStorage(), engine.diffLimitBytes(), engine.workers(),
                engine.uploads(), engine.chunkSizeBytes(), true, true, engine.bandwidthLimitBytesPerSecond());
    }

    private String nodeName() {
        if (node != null && !node.isBlank()) {
            return node;
        }
        String env = System.getenv("NODE_NAME");
        return env != null && !env.isBlank() ? env : Nodes.hostname();
    }
}
