package io.blockvault.agent.controller;

import io.blockvault.agent.backup.RepositoryConnector;
import io.blockvault.agent.cli.EngineOptions;
import io.blockvault.agent.cli.Nodes;
import io.blockvault.agent.cli.RepositoryOptions;
import io.blockvault.agent.snapshot.SnapshotProvider;
import io.blockvault.repository.format.ChunkCodec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code blockvault-agent run}: the DaemonSet process. Watches the Backups of this node and runs
 * them until SIGTERM. The Kubernetes client comes from the in-cluster service account or KUBECONFIG.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run as the node's agent: watch this node's Backup objects, run them, report their status.")
public final class RunCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--node", paramLabel = "NAME",
            description = "this node's name (default: env NODE_NAME, else the host name)")
    String node;

    @Mixin
    RepositoryOptions repositoryOptions;

    @Mixin
    EngineOptions engine;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "1",
            description = "backups run at once on this node; the others wait Pending (default: ${DEFAULT-VALUE})")
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
        SnapshotProvider provider = engine.provider(spec.commandLine());
        String nodeName = nodeName();
        ChunkCodec codec = repositoryOptions.codec();
        RepositoryConnector repository = repositoryOptions.connector(spec.commandLine());
        EngineBackupRunner runner = new EngineBackupRunner(nodeName, repository, codec, provider,
                new EngineBackupRunner.Tuning(engine.diffStorage(), engine.diffLimitBytes(), engine.workers(),
                        engine.uploads(), engine.chunkSizeBytes(), true, true), Clock.systemUTC());
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
        try (KubernetesClient client = new KubernetesClientBuilder().build();
                BackupController controller = new BackupController(client, new BackupController.Settings(nodeName,
                        concurrency, Duration.ofSeconds(progressIntervalSeconds), Duration.ofMinutes(5)),
                        new DeviceResolver(), runner, Clock.systemUTC())) {
            controller.start();
            System.err.println("blockvault-agent: watching Backups of node " + nodeName + " (at most " + concurrency
                    + " at once)");
            stopping.await();
            System.err.println("blockvault-agent: stopping; a Backup still running is marked Failed (AgentRestarted)"
                    + " by the next start");
        } finally {
            closed.countDown();
        }
        return 0;
    }

    private String nodeName() {
        if (node != null && !node.isBlank()) {
            return node;
        }
        String env = System.getenv("NODE_NAME");
        return env != null && !env.isBlank() ? env : Nodes.hostname();
    }
}
