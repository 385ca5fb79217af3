package io.blockvault.agent.controller;

import io.blockvault.agent.backup.BackupResult;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.repository.client.BackupProgress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
public final class BackupController implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BackupController.class.getName());

    public static final String AGENT_RESTARTED = "AgentRestarted";

    /**
     * What the controller is told at start.
     *
     * @param repository the BackupRepository this agent writes to; Backups naming another are left to
     *                   that repository's agent on this node
     * @param policy     the BackupPolicy whose DaemonSet runs this agent, or null; Backups another policy
     *                   created are left to that policy's agent
     */
    public record Settings(String node, String repository, String policy, int concurrency, Duration progressInterval,
            Duration resync, Retries retries) {
        public Settings {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(repository, "repository");
            Objects.requireNonNull(retries, "retries");
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
            }
        }
    }

    /**
     * How often a backup whose repository went away mid-way is run again within the same Backup, and
     * the first wait (doubled before each further attempt: 2, 4, 8 s by default).
     */
    public record Retries(int retries, Duration firstBackoff) {
        public static final Retries DEFAULT = new Retries(3, Duration.ofSeconds(2));

        public Retries {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must not be negative, got " + retries);
            }
        }

        Duration backoff(int retry) {
            return firstBackoff.multipliedBy(1L << Math.min(retry - 1, 20));
        }
    }

    private final KubernetesClient client;
    private final Settings settings;
    private final DeviceResolver resolver;
    private final BackupRunner runner;
    private final Clock clock;
    private final StatusWriter status;
    /** UIDs this process has claimed (queued, running or finished); pruned when the Backup is deleted. */
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    private final ThreadPoolExecutor backups;
    private final ExecutorService progressWrites;
    private SharedIndexInformer<Backup> informer;

    public BackupController(KubernetesClient client, Settings settings, DeviceResolver resolver, BackupRunner runner,
            Clock clock) {
        this.client = client;
        this.settings = settings;
        this.resolver = resolver;
        this.runner = runner;
        this.clock = clock;
        this.status = new StatusWriter(client, Backup.class);
        AtomicInteger n = new AtomicInteger();
        this.backups = new ThreadPoolExecutor(settings.concurrency(), settings.concurrency(), 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> daemon(r, "backup-" + n.incrementAndGet()));
        this.progressWrites = Executors.newSingleThreadExecutor(r -> daemon(r, "backup-progress"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Starts watching; returns once the informer has listed the node's Backups. */
    public synchronized void start() {
        if (informer != null) {
            throw new IllegalStateException("the controller is already started");
        }
        informer = client.resources(Backup.class).withField("spec.nodeName", settings.node())
                .inform(new Handler(), settings.resync().toMillis());
        LOG.log(Level.INFO, "watching Backups of node {0} (at most {1} at once)", settings.node(),
                settings.concurrency());
    }

    /** Stops watching and interrupts running backups (their Backups stay Running until the next start). */
    @Override
    public synchronized void close() {
        if (informer != null) {
            informer.close();
        }
        backups.shutdownNow();
        progressWrites.shutdownNow();
        try {
            backups.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Handler implements ResourceEventHandler<Backup> {
        @Override
        public void onAdd(Backup b) {
            consider(b);
        }

        @Override
        public void onUpdate(Backup before, Backup after) {
            consider(after);
        }

        @Override
        public void onDelete(Backup b, boolean finalStateUnknown) {
            claimed.remove(b.getMetadata().getUid());
        }
    }

    private void consider(Backup b) {
        try {
            if (b.getSpec() == null || !settings.node().equals(b.getSpec().nodeName())) {
                return; // the field selector already filters; never act on another node's Backup
            }
            if (!settings.repository().equals(b.getSpec().repository())) {
                // Another repository's agent on this node runs it (one agent DaemonSet per policy).
                LOG.log(Level.DEBUG, "Backup {0} names repository {1}; left to that repository''s agent",
                        b.getMetadata().getName(), b.getSpec().repository());
                return;
            }
            if (settings.policy() != null && b.getSpec().policy() != null
                    && !settings.policy().equals(b.getSpec().policy())) {
                LOG.log(Level.DEBUG, "Backup {0} belongs to policy {1}; left to that policy''s agent",
                        b.getMetadata().getName(), b.getSpec().policy());
                return;
            }
            BackupPhase phase = phase(b);
            String uid = b.getMetadata().getUid();
            if (phase == BackupPhase.Succeeded || phase == BackupPhase.Failed) {
                return;
            }
            if (phase == BackupPhase.Running) {
                if (claimed.add(uid)) {
                    failLeftBehind(b);
                }
                return;
            }
            if (!claimed.add(uid)) {
                return;
            }
            Job job = new Job(b.getMetadata().getName(), uid, b.getSpec().device(),
                    b.getSpec().type() == BackupType.Full, b.getMetadata().getGeneration());
            if (phase == null) {
                job.queued(backups.getActiveCount() >= settings.concurrency());
            }
            backups.execute(() -> job.run());
        } catch (KubernetesClientException e) {
            // Not claimed after all: the next resync retries.
            claimed.remove(b.getMetadata().getUid());
            LOG.log(Level.WARNING, "cannot claim Backup " + b.getMetadata().getName() + ": " + e.getMessage()
                    + "; retrying at the next resync");
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "handling Backup " + b.getMetadata().getName() + " failed", e);
        }
    }

    private static BackupPhase phase(Backup b) {
        return b.getStatus() == null ? null : b.getStatus().phase();
    }

    /** A Backup Running without this process: a previous agent was stopped during it. */
    private void failLeftBehind(Backup seen) {
        Backup fresh = client.resources(Backup.class).withName(seen.getMetadata().getName()).get();
        if (fresh == null || !seen.getMetadata().getUid().equals(fresh.getMetadata().getUid())
                || phase(fresh) != BackupPhase.Running) {
            return;
        }
        BackupStatus old = fresh.getStatus();
        Instant now = clock.instant();
        String message = "the agent on node " + settings.node() + " restarted while this backup ran; nothing was "
                + "committed. The policy's next scheduled Backup runs it again; create a new Backup to run it now";
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", BackupPhase.Failed.name());
        if (old.startTime() != null) {
            s.put("startTime", old.startTime());
        }
        if (old.progress() != null) {
            s.put("progress", client.getKubernetesSerialization().convertValue(old.progress(), Map.class));
        }
        s.put("completionTime", now.toString());
        s.put("reason", AGENT_RESTARTED);
        s.put("message", message);
        s.put("conditions", List.of(StatusWriter.condition("False", AGENT_RESTARTED, message, now, fresh.getMetadata()
                .getGeneration())));
        status.apply(fresh.getMetadata().getName(), s);
        LOG.log(Level.WARNING, "Backup {0} was Running when this agent started: marked Failed ({1})",
                fresh.getMetadata().getName(), AGENT_RESTARTED);
    }

    /** One claimed Backup; all its status writes go through this object, one at a time. */
    private final class Job {
        private final String name;
        private final String uid;
        private final String device;
        private final boolean full;
        private final Long generation;
        /** The agent's whole part of the status, as last applied. */
        private final Map<String, Object> fields = new LinkedHashMap<>();
        private final AtomicReference<BackupProgress> latest = new AtomicReference<>();
        private final AtomicBoolean writeQueued = new AtomicBoolean();
        private volatile Instant lastProgressWrite = Instant.EPOCH;
        private boolean finished;
        private String conditionStatus;
        private Instant conditionSince;

        Job(String name, String uid, String device, boolean full, Long generation) {
            this.name = name;
            this.uid = uid;
            this.device = device;
            this.full = full;
            this.generation = generation;
        }

        synchronized void queued(boolean waiting) {
            fields.put("phase", BackupPhase.Pending.name());
            setCondition("True", "Queued", waiting
                    ? "waiting for one of the " + settings.concurrency() + " backup slots of node " + settings.node()
                    : "claimed by the agent on node " + settings.node());
            status.apply(name, fields);
        }

        void run() {
            Backup fresh;
            try {
                fresh = client.resources(Backup.class).withName(name).get();
            } catch (KubernetesClientException e) {
                claimed.remove(uid);
                LOG.log(Level.WARNING, "cannot read Backup " + name + ": " + e.getMessage() + "; retrying later");
                return;
            }
            if (fresh == null || !uid.equals(fresh.getMetadata().getUid())) {
                return; // deleted meanwhile
            }
            BackupPhase phase = phase(fresh);
            if (phase != null && phase != BackupPhase.Pending) {
                return; // someone (the operator's timeout) decided already
            }
            Instant start = clock.instant();
            try {
                synchronized (this) {
                    fields.put("phase", BackupPhase.Running.name());
                    fields.put("startTime", start.toString());
                    setCondition("True", "Running", "backing up " + device + " on node " + settings.node());
                    status.apply(name, fields);
                }
            } catch (KubernetesClientException e) {
                claimed.remove(uid);
                LOG.log(Level.WARNING, "cannot mark Backup " + name + " Running: " + e.getMessage()
                        + "; retrying at the next resync");
                return;
            }
            LOG.log(Level.INFO, "Backup {0}: backing up {1}", name, device);
            List<String> retriedAfter = new ArrayList<>();
            for (int retry = 0; ; retry++) {
                try {
                    Path resolved = resolver.resolve(device);
                    BackupResult result = runner.run(resolved, full, this::progress);
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
                    fail(f);
                    if (f.reason().equals(FailureReasons.Work.BACKUP.reason())) {
                        LOG.log(Level.WARNING, "Backup " + name + " failed", e);
                    }
                    return;
                }
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
            synchronized (this) {
                fields.put("message", message);
                setCondition("True", "Retrying", message);
                try {
                    status.apply(name, fields);
                } catch (KubernetesClientException e) {
                    LOG.log(Level.WARNING, "cannot write the retry of Backup " + name + ": " + e.getMessage());
                }
            }
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            synchronized (this) {
                setCondition("True", "Running", "backing up " + device + " on node " + settings.node() + " (attempt "
                        + (retry + 1) + " of " + (settings.retries().retries() + 1) + ")");
                try {
                    status.apply(name, fields);
                } catch (KubernetesClientException e) {
                    LOG.log(Level.WARNING, "cannot write the retry of Backup " + name + ": " + e.getMessage());
                }
            }
            return true;
        }

        /** From the engine's timer thread: never blocks it; writes at most every progressInterval. */
        private void progress(BackupProgress p) {
            latest.set(p);
            Instant now = clock.instant();
            if (Duration.between(lastProgressWrite, now).compareTo(settings.progressInterval()) < 0) {
                return;
            }
            if (writeQueued.compareAndSet(false, true)) {
                lastProgressWrite = now;
                try {
                    progressWrites.execute(this::writeProgress);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    writeQueued.set(false); // shutting down
                }
            }
        }

        private void writeProgress() {
            writeQueued.set(false);
            synchronized (this) {
                BackupProgress p = latest.get();
                if (finished || p == null) {
                    return;
                }
                fields.put("progress", progressMap(p, clock.instant()));
                try {
                    status.apply(name, fields);
                } catch (KubernetesClientException e) {
                    LOG.log(Level.WARNING, "cannot write the progress of Backup " + name + ": " + e.getMessage());
                }
            }
        }

        private synchronized void succeed(BackupResult r, List<String> retriedAfter) {
            finished = true;
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
            fields.put("phase", BackupPhase.Succeeded.name());
            fields.put("mode", r.mode().name());
            fields.put("modeReason", r.modeReason());
            fields.put("restorePointId", r.pointId());
            r.parentPointId().ifPresent(parent -> fields.put("parentRestorePointId", parent));
            fields.put("crashConsistent", r.crashConsistent());
            fields.put("completionTime", now.toString());
            fields.put("progress", progress);
            String message = "restore point " + r.pointId() + " of " + r.device() + " committed (" + r.mode() + ": "
                    + r.modeReason() + ")" + (r.crashConsistent() ? "" : "; not crash-consistent: no snapshot module")
                    + (retriedAfter.isEmpty() ? "" : "; attempt " + (retriedAfter.size() + 1) + ", with the snapshot "
                    + "taken again, after: " + String.join("; then ", retriedAfter));
            fields.put("message", message);
            setCondition("False", "Succeeded", message);
            applyFinal();
            LOG.log(Level.INFO, "Backup {0}: {1}", name, message);
        }

        private synchronized void fail(JobFailure f) {
            finished = true;
            Instant now = clock.instant();
            BackupProgress p = latest.get();
            if (p != null) {
                fields.put("progress", progressMap(p, now));
            }
            fields.put("phase", BackupPhase.Failed.name());
            fields.put("completionTime", now.toString());
            fields.put("reason", f.reason());
            fields.put("message", f.getMessage());
            setCondition("False", f.reason(), f.getMessage());
            applyFinal();
            LOG.log(Level.WARNING, "Backup {0} failed ({1}): {2}", name, f.reason(), f.getMessage());
        }

        /** The final status must land: a few attempts, then the log (the operator's timeout takes over). */
        private void applyFinal() {
            for (int attempt = 1; ; attempt++) {
                try {
                    status.apply(name, fields);
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() == 404 || attempt == 5) {
                        LOG.log(Level.ERROR, "cannot write the final status of Backup " + name + ": "
                                + e.getMessage() + "; the operator will time it out");
                        return;
                    }
                    try {
                        TimeUnit.SECONDS.sleep(attempt); // linear backoff: 1, 2, 3, 4 s
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        private void setCondition(String value, String reason, String message) {
            Instant now = clock.instant();
            if (!value.equals(conditionStatus)) {
                conditionStatus = value;
                conditionSince = now;
            }
            fields.put("conditions", List.of(StatusWriter.condition(value, reason, message, conditionSince,
                    generation)));
        }
    }

    static Map<String, Object> progressMap(BackupProgress p, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", p.toScanBytes());
        m.put("scannedBytes", p.scannedBytes());
        m.put("changedBytes", p.changedBytes());
        m.put("sentBytes", p.sentBytes());
        m.put("percent", (int) Math.floor(p.percent()));
        m.put("bytesPerSecond", (long) p.bytesPerSecond());
        if (p.etaSeconds().isPresent()) {
            m.put("etaSeconds", p.etaSeconds().getAsLong());
        }
        m.put("updateTime", now.toString());
        return m;
    }
}
