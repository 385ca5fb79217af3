package io.blockvault.agent.controller;

import io.blockvault.agent.backup.RepositoryConnector;
import io.blockvault.agent.cli.Nodes;
import io.blockvault.agent.cli.RepositoryOptions;
import io.blockvault.agent.snapshot.SnapshotProviders;
import io.blockvault.repository.format.ChunkCodec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Option(names = "--snapshot", paramLabel = "auto|blksnap|nosnap", defaultValue = "auto",
            description = "snapshot provider (default: ${DEFAULT-VALUE}: blksnap when the module is loaded)")
    String snapshot;

    @Option(names = "--diff-storage", paramLabel = "DIR", defaultValue = "/var/lib/blockvault/diff",
            description = "where blksnap keeps copy-on-write data; must be on another device (default: "
                    + "${DEFAULT-VALUE})")
    Path diffStorage;

    @Option(names = "--diff-limit-mib", paramLabel = "MIB", defaultValue = "4096",
            description = "most the difference storage may grow to (default: ${DEFAULT-VALUE})")
    long diffLimitMib;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "1",
            description = "backups run at once on this node; the others wait Pending (default: ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--workers", paramLabel = "N", description = "threads per backup that hash, compress, encrypt "
            + "(default: CPU count)")
    Integer workers;

    @Option(names = "--uploads", paramLabel = "N", defaultValue = "4",
            description = "uploads in flight per backup (default: ${DEFAULT-VALUE})")
    int uploads;

    @Option(names = "--chunk-size-mib", paramLabel = "MIB", defaultValue = "4",
            description = "chunk size of a first backup (default: ${DEFAULT-VALUE})")
    int chunkSizeMib;

    @Option(names = "--progress-interval-seconds", paramLabel = "S", defaultValue = "5",
            description = "least time between two progress writes to a Backup's status (default: ${DEFAULT-VALUE})")
    int progressIntervalSeconds;

    @Override
    public Integer call() throws Exception {
        if (concurrency < 1 || uploads < 1 || diffLimitMib < 1 || progressIntervalSeconds < 1
                || (workers != null && workers < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--concurrency, --uploads, "
                    + "--diff-limit-mib, --progress-interval-seconds and --workers must be positive");
        }
        if (chunkSizeMib < 1 || chunkSizeMib > 64) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size-mib must be 1..64");
        }
        SnapshotProviders.Choice choice;
        try {
            choice = SnapshotProviders.choose(snapshot);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        choice.warning().ifPresent(w -> System.err.println("warning: " + w));
        if (choice.provider().name().equals("blksnap")) {
            Files.createDirectories(diffStorage);
        }
        String nodeName = nodeName();
        ChunkCodec codec = repositoryOptions.codec();
        RepositoryConnector repository = repositoryOptions.connector(spec.commandLine());
        EngineBackupRunner runner = new EngineBackupRunner(nodeName, repository, codec, choice.provider(),
                new EngineBackupRunner.Tuning(diffStorage, diffLimitMib << 20,
                        workers == null ? Runtime.getRuntime().availableProcessors() : workers, uploads,
                        chunkSizeMib << 20, true, true), Clock.systemUTC());
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
