package io.blockvault.agent.controller;

import io.blockvault.agent.backup.BackupResult;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupPolicy;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.repository.client.BackupProgress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The agent's DaemonSet loop: watches the Backups of its own node (field selector on the
 * {@code spec.nodeName} selectable field), claims new and Pending ones, runs at most
 * {@code concurrency} at once (the others stay Pending), and writes the agent's part of the status
 * by server-side apply: Running with startTime, progress at most every {@code progressInterval},
 * then Succeeded or Failed with a CamelCase reason.
 *
 * <p>Idempotent: Succeeded and Failed Backups are never touched; a Backup found Running that this
 * process did not start was left behind by a previous agent (the engine commits nothing partial),
 * so it is marked Failed with reason {@code AgentRestarted}; the policy's schedule makes the next one.
 */
public final class BackupController extends JobController<Backup> {

    private static final System.Logger LOG = System.getLogger(BackupController.class.getName());

    /**
     * What the controller is told at start.
     *
     * @param repositories the BackupRepositories this agent serves; a Backup naming another waits
     *                   Pending for the agent that the operator configures with it
     * @param moduleState the node's snapshot module ({@code RunCommand.moduleState}), written to the
     *                   {@code status.moduleState} of every Backup this agent runs; null: not reported
     */
    public record Settings(String node, Set<String> repositories, String moduleState, int concurrency,
            Duration progressInterval, Duration resync, Retries retries) {
        public Settings {
            Objects.requireNonNull(node, "node");
            repositories = Set.copyOf(repositories);
            Objects.requireNonNull(retries, "retries");
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
            }
        }
    }

    /**
     * How often a backup whose repository went away mid-way is run again within the same Backup, and
     * the first wait (doubled before each further attempt: 2, 4, ... 64 s by default, about two minutes
     * in all, which covers a repository pod restarted by its StatefulSet and passing its readiness probe).
     */
    public record Retries(int retries, Duration firstBackoff) {
        public static final Retries DEFAULT = new Retries(6, Duration.ofSeconds(2));

        public Retries {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must not be negative, got " + retries);
            }
        }

        Duration backoff(int retry) {
            return firstBackoff.multipliedBy(1L << Math.min(retry - 1, 20));
        }
    }

    private final Settings settings;
    private final DeviceResolver resolver;
    private final BackupRunner runner;
    /** The engine's progress callback must never block: its writes go through this thread. */
    private final ExecutorService progressWrites;

    public BackupController(KubernetesClient client, Settings settings, DeviceResolver resolver, BackupRunner runner,
            Clock clock) {
        super(client, Backup.class, clock, settings.concurrency(), settings.progressInterval());
        this.settings = settings;
        this.resolver = resolver;
        this.runner = runner;
        this.progressWrites = Executors.newSingleThreadExecutor(r -> daemon(r, "backup-progress"));
    }

    /** Starts watching; returns once the informer has listed the node's Backups. */
    public void start() {
        watch("spec.nodeName", settings.node(), settings.resync());
        LOG.log(Level.INFO, "watching Backups of node {0} (at most {1} at once)", settings.node(),
                settings.concurrency());
    }

    @Override
    public synchronized void close() {
        progressWrites.shutdownNow();
        super.close();
    }

    @Override
    BackupPhase phase(Backup b) {
        return b.getStatus() == null ? null : b.getStatus().phase();
    }

    @Override
    boolean mine(Backup b) {
        if (b.getSpec() == null || !settings.node().equals(b.getSpec().nodeName())) {
            return false; // the field selector already filters; never act on another node's Backup
        }
        if (!settings.repositories().contains(b.getSpec().repository())) {
            // The operator rolls out this node's agent with that repository; the new pod claims it.
            LOG.log(Level.DEBUG, "Backup {0} names repository {1}, which this agent does not serve yet; left Pending",
                    b.getMetadata().getName(), b.getSpec().repository());
            return false;
        }
        return true;
    }

    @Override
    void claim(Backup b, BackupPhase phase) {
        Job job = new Job(b);
        if (phase == null) {
            job.queued(jobs.getActiveCount() >= settings.concurrency());
        }
        jobs.execute(job::run);
    }

    @Override
    List<String> keptWhenLeftBehind() {
        return List.of("startTime", "progress", "moduleState");
    }

    @Override
    String leftBehindMessage() {
        // The engine commits nothing partial; the policy's schedule makes the next one.
        return "the agent on node " + settings.node() + " restarted while this backup ran; nothing was "
                + "committed. The policy's next scheduled Backup runs it again; create a new Backup to run it now";
    }

    /** One claimed Backup; all its status writes go through its JobStatus, one at a time. */
    private final class Job {
        private final String name;
        private final String uid;
        private final String repository;
        private final String policy;
        private final String device;
        private final boolean full;
        private final JobStatus status;
        private final AtomicReference<BackupProgress> latest = new AtomicReference<>();
        private final AtomicBoolean writeQueued = new AtomicBoolean();

        Job(Backup b) {
            this.name = b.getMetadata().getName();
            this.uid = b.getMetadata().getUid();
            this.repository = b.getSpec().repository();
            this.policy = b.getSpec().policy();
            this.device = b.getSpec().device();
            this.full = b.getSpec().type() == BackupType.Full;
            this.status = status(b);
            if (settings.moduleState() != null) {
                // In every write, so a failed Backup says it too (a missing module is often why).
                status.put("moduleState", settings.moduleState());
            }
        }

        void queued(boolean waiting) {
            synchronized (status) {
                status.put("phase", BackupPhase.Pending.name());
                status.condition("True", "Queued", waiting
                        ? "waiting for one of the " + settings.concurrency() + " backup slots of node " + settings.node()
                        : "claimed by the agent on node " + settings.node());
                status.apply();
            }
        }

        void run() {
            Backup fresh = pending(name, uid);
            if (fresh == null || !markRunning(fresh, status, s -> s.condition("True", "Running", "backing up " + device
                    + " on node " + settings.node()))) {
                return;
            }
            LOG.log(Level.INFO, "Backup {0}: backing up {1}", name, device);
            List<String> retriedAfter = new ArrayList<>();
            for (int retry = 0; ; retry++) {
                try {
                    Path resolved = resolver.resolve(device);
                    BackupResult result = runner.run(repository, resolved, full, policyTuning(), this::progress);
                    succeed(result, retriedAfter);
                    return;
                } catch (Exception e) {
                    JobFailure f = e instanceof JobFailure bf ? bf : FailureReasons.classify(e);
                    if (retry < settings.retries().retries() && FailureReasons.transientRepositoryFailure(f)
                            && !Thread.currentThread().isInterrupted()) {
                        retriedAfter.add(f.getMessage());
                        if (waitToRetry(retry + 1, f)) {
                            continue;
                        }
                        return; // interrupted: the agent stops; the next start marks it AgentRestarted
                    }
                    if (!retriedAfter.isEmpty()) {
                        f = new JobFailure(f.reason(), f.getMessage() + " (attempt " + (retry + 1) + "; the earlier "
                                + "attempts failed: " + String.join("; then ", retriedAfter) + ")", e);
                    }
                    Instant now = clock.instant();
                    BackupProgress p = latest.get();
                    status.fail(now, p == null ? null : progressMap(p, now), f);
                    if (f.reason().equals(FailureReasons.Work.BACKUP.reason())) {
                        LOG.log(Level.WARNING, "Backup " + name + " failed", e);
                    }
                    return;
                }
            }
        }

        /**
         * The settings of the Backup's policy, read when the backup starts (so an edit of the policy
         * applies to its next backup without restarting the agent); none for an on-demand Backup or
         * one whose policy was deleted since.
         */
        private PolicyTuning policyTuning() throws JobFailure {
            if (policy == null) {
                return PolicyTuning.NONE;
            }
            try {
                return PolicyTuning.of(client.resources(BackupPolicy.class).withName(policy).get());
            } catch (KubernetesClientException e) {
                throw new JobFailure("PolicyUnreadable", "could not read BackupPolicy '" + policy + "' for its "
                        + "diffStorage and bandwidthLimitMiBps (HTTP " + e.getCode() + ": " + e.getMessage()
                        + "); the agent's ServiceAccount needs get on backuppolicies.blockvault.io", e);
            }
        }

        /**
         * Says in the status that attempt {@code retry + 1} follows, then waits. Each attempt is a whole
         * backup: a new snapshot (the failed attempt's was released), the mode decided again and a new
         * point; the lack check sends only the chunks the failed attempt did not upload.
         */
        private boolean waitToRetry(int retry, JobFailure f) {
            Duration wait = settings.retries().backoff(retry);
            String message = "retrying after: " + f.getMessage() + " (attempt " + (retry + 1) + " of "
                    + (settings.retries().retries() + 1) + " in " + wait.toSeconds() + " s, with a new snapshot; "
                    + "nothing of the failed attempt was committed)";
            LOG.log(Level.WARNING, "Backup {0}: {1}", name, message);
            synchronized (status) {
                status.put("message", message);
                status.condition("True", "Retrying", message);
                status.applyOrLog("retry");
            }
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            synchronized (status) {
                status.condition("True", "Running", "backing up " + device + " on node " + settings.node()
                        + " (attempt " + (retry + 1) + " of " + (settings.retries().retries() + 1) + ")");
                status.applyOrLog("retry");
            }
            return true;
        }

        /** From the engine's timer thread: never blocks it; writes at most every progressInterval. */
        private void progress(BackupProgress p) {
            latest.set(p);
            if (writeQueued.get() || !status.progressDue()) {
                return;
            }
            writeQueued.set(true);
            try {
                progressWrites.execute(() -> {
                    writeQueued.set(false);
                    status.progress(progressMap(latest.get(), clock.instant()));
                });
            } catch (RejectedExecutionException e) {
                writeQueued.set(false); // shutting down
            }
        }

        private void succeed(BackupResult r, List<String> retriedAfter) {
            Instant now = clock.instant();
            BackupProgress p = latest.get();
            Map<String, Object> progress = p != null ? progressMap(p, now) : new LinkedHashMap<>();
            progress.put("scannedBytes", r.stats().scannedBytes());
            progress.put("sentBytes", r.stats().sentBytes());
            progress.putIfAbsent("totalBytes", r.stats().scannedBytes());
            progress.putIfAbsent("changedBytes", r.stats().scannedBytes());
            progress.putIfAbsent("bytesPerSecond", r.durationMillis() == 0 ? 0
                    : r.stats().scannedBytes() * 1000 / r.durationMillis());
            progress.put("percent", 100);
            progress.put("etaSeconds", 0);
            progress.put("updateTime", now.toString());
            String message = "restore point " + r.pointId() + " of " + r.device() + " committed (" + r.mode() + ": "
                    + r.modeReason() + ")" + (r.crashConsistent() ? "" : "; not crash-consistent: no snapshot module")
                    + (retriedAfter.isEmpty() ? "" : "; attempt " + (retriedAfter.size() + 1) + ", with the snapshot "
                    + "taken again, after: " + String.join("; then ", retriedAfter));
            synchronized (status) {
                status.put("mode", r.mode().name());
                status.put("modeReason", r.modeReason());
                status.put("restorePointId", r.pointId());
                r.parentPointId().ifPresent(parent -> status.put("parentRestorePointId", parent));
                status.put("crashConsistent", r.crashConsistent());
                status.succeed(now, progress, message);
            }
        }
    }

    static Map<String, Object> progressMap(BackupProgress p, Instant now) {
        Map<String, Object> m = JobStatus.progressMap(p.toScanBytes(), p.scannedBytes(), p.percent(),
                p.bytesPerSecond(), p.etaSeconds(), now);
        m.put("changedBytes", p.changedBytes());
        m.put("sentBytes", p.sentBytes());
        return m;
    }
}
