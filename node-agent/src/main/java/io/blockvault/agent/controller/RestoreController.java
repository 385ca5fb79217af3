package io.blockvault.agent.controller;

import io.blockvault.agent.device.BlockDevices;
import io.blockvault.agent.restore.RestoreResult;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.api.v1alpha1.RestoreStatus;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.client.RestoreProgress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Restores whose {@code spec.target.nodeName} is this node (field selector on that
 * selectable field), one at a time, with the agent's part of the status written like a Backup's:
 * Running with the resolved restorePointId, progress at most every {@code progressInterval}, then
 * Succeeded or Failed with a reason. The operator owns only its own conditions (Degraded).
 *
 * <p>Idempotent across restarts: finished Restores are never rerun; one found Running that this
 * process did not start becomes Failed/AgentRestarted (its target may be partly written).
 */
public final class RestoreController implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RestoreController.class.getName());

    public static final String PVC_UNSUPPORTED = "PvcRestoreUnsupported";
    public static final String TARGET_MOUNTED = "TargetMounted";
    /** The source Backup was written to another repository than the one this Restore names. */
    public static final String REPOSITORY_MISMATCH = "RepositoryMismatch";

    /** Runs one restore of a resolved point to a checked target; the controller's view of the engine. */
    @FunctionalInterface
    public interface RestoreRunner {
        RestoreResult run(PointRef point, Path target, boolean force, RestoreListener listener) throws IOException;
    }

    /**
     * @param restoreFileDir the only directory a {@code spec.target.file} may be in (a host directory
     *                       mounted at the same path, so the file outlives the pod)
     */
    public record Settings(String node, String repository, Path restoreFileDir, Duration progressInterval,
            Duration resync) {
        public Settings {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(repository, "repository");
            Objects.requireNonNull(restoreFileDir, "restoreFileDir");
        }
    }

    private final KubernetesClient client;
    private final Settings settings;
    private final RestoreRunner runner;
    private final Clock clock;
    private final StatusWriter status;
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    private final ExecutorService restores;
    private SharedIndexInformer<Restore> informer;
    /** Set by close: an interrupted restore writes nothing more; the next start marks it AgentRestarted. */
    private volatile boolean closing;

    public RestoreController(KubernetesClient client, Settings settings, RestoreRunner runner, Clock clock) {
        this.client = client;
        this.settings = settings;
        this.runner = runner;
        this.clock = clock;
        this.status = new StatusWriter(client, Restore.class);
        this.restores = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "restore");
            t.setDaemon(true);
            return t;
        });
    }

    public synchronized void start() {
        if (informer != null) {
            throw new IllegalStateException("the controller is already started");
        }
        informer = client.resources(Restore.class).withField("spec.target.nodeName", settings.node())
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Restore r) {
                        consider(r);
                    }

                    @Override
                    public void onUpdate(Restore before, Restore after) {
                        consider(after);
                    }

                    @Override
                    public void onDelete(Restore r, boolean finalStateUnknown) {
                        claimed.remove(r.getMetadata().getUid());
                    }
                }, settings.resync().toMillis());
    }

    /** Stops watching and interrupts a running restore (it is marked AgentRestarted by the next start). */
    @Override
    public synchronized void close() {
        closing = true;
        if (informer != null) {
            informer.close();
        }
        restores.shutdownNow();
        try {
            restores.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static BackupPhase phase(Restore r) {
        return r.getStatus() == null ? null : r.getStatus().phase();
    }

    private void consider(Restore r) {
        try {
            RestoreSpec spec = r.getSpec();
            if (spec == null || spec.target() == null || !settings.node().equals(spec.target().nodeName())) {
                return;
            }
            if (!settings.repository().equals(spec.repository())) {
                // Another repository's agent on this node runs it (one agent DaemonSet per policy).
                LOG.log(Level.DEBUG, "Restore {0} names repository {1}; left to that repository''s agent",
                        r.getMetadata().getName(), spec.repository());
                return;
            }
            BackupPhase phase = phase(r);
            String uid = r.getMetadata().getUid();
            if (phase == BackupPhase.Succeeded || phase == BackupPhase.Failed || !claimed.add(uid)) {
                return;
            }
            Job job = new Job(r.getMetadata().getName(), uid, r.getMetadata().getGeneration());
            if (phase == BackupPhase.Running) {
                // Only what the API server has now: the informer's copy may be older.
                Restore fresh = client.resources(Restore.class).withName(r.getMetadata().getName()).get();
                if (fresh != null && uid.equals(fresh.getMetadata().getUid()) && phase(fresh) == BackupPhase.Running) {
                    job.failLeftBehind(fresh.getStatus());
                }
                return;
            }
            restores.execute(job::run);
        } catch (KubernetesClientException e) {
            claimed.remove(r.getMetadata().getUid());
            LOG.log(Level.WARNING, "cannot handle Restore " + r.getMetadata().getName() + ": " + e.getMessage()
                    + "; retrying at the next resync");
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "handling Restore " + r.getMetadata().getName() + " failed", e);
        }
    }

    /** The restore point a Restore names, with the node that wrote it. */
    PointRef source(RestoreSpec spec) throws JobFailure {
        if (spec.source().restorePointId() != null) {
            // A bare id is a point of this node (the repository lets a node read its own points).
            try {
                return new PointRef(settings.node(), spec.source().restorePointId());
            } catch (IllegalArgumentException e) {
                throw new JobFailure("InvalidSource", "spec.source.restorePointId: " + e.getMessage());
            }
        }
        String name = spec.source().backup();
        Backup b = client.resources(Backup.class).withName(name).get();
        if (b == null) {
            throw new JobFailure("BackupNotFound", "Backup '" + name + "' (spec.source.backup) does not exist; name "
                    + "an existing Backup or give spec.source.restorePointId");
        }
        if (b.getStatus() == null || b.getStatus().phase() != BackupPhase.Succeeded
                || b.getStatus().restorePointId() == null) {
            throw new JobFailure("BackupNotSucceeded", "Backup '" + name + "' has not succeeded (phase "
                    + (b.getStatus() == null || b.getStatus().phase() == null ? "Pending" : b.getStatus().phase())
                    + "), so it has no restore point; create the Restore once it has succeeded, or pick another");
        }
        if (!spec.repository().equals(b.getSpec().repository())) {
            throw new JobFailure(REPOSITORY_MISMATCH, "Backup '" + name + "' was written to repository '"
                    + b.getSpec().repository() + "', but this Restore names repository '" + spec.repository()
                    + "'; set spec.repository to '" + b.getSpec().repository() + "'");
        }
        return new PointRef(b.getSpec().nodeName(), b.getStatus().restorePointId());
    }

    /** The target path, after the checks that must hold before anything is written. */
    Path target(RestoreSpec spec) throws JobFailure, IOException {
        RestoreSpec.Target t = spec.target();
        if (t.pvc() != null) {
            throw new JobFailure(PVC_UNSUPPORTED, "restoring into PersistentVolumeClaim " + t.pvc().namespace() + "/"
                    + t.pvc().name() + " is not supported by the agent yet; restore to spec.target.device (the "
                    + "volume's block device on node " + settings.node() + ") or spec.target.file instead");
        }
        if (t.file() != null) {
            return RestoreFileTarget.resolve(settings.restoreFileDir(), t.file(), settings.node());
        }
        Path device = Path.of(t.device());
        if (!Files.exists(device)) {
            throw new JobFailure(DeviceResolver.DEVICE_NOT_FOUND, "target device " + device + " does not exist on "
                    + "node " + settings.node() + "; check spec.target.device (ls -l /dev/disk/by-id/ on the node) "
                    + "and spec.target.nodeName");
        }
        if (!Boolean.TRUE.equals(spec.force()) && BlockDevices.isBlockDevice(device)) {
            Optional<Path> mount = BlockDevices.mountPoint(device);
            if (mount.isPresent()) {
                throw new JobFailure(TARGET_MOUNTED, "target device " + device + " is mounted at " + mount.get()
                        + " on node " + settings.node() + "; unmount it (stop the workload using it), or set "
                        + "spec.force: true to overwrite it under the mounted filesystem");
            }
        }
        return device;
    }

    /** One claimed Restore; all its status writes go through this object, one at a time. */
    private final class Job {
        private final String name;
        private final String uid;
        private final Long generation;
        private final Map<String, Object> fields = new LinkedHashMap<>();
        private volatile Instant lastProgressWrite = Instant.EPOCH;
        private RestoreProgress latest;
        private boolean finished;
        private String conditionStatus;
        private Instant conditionSince;

        Job(String name, String uid, Long generation) {
            this.name = name;
            this.uid = uid;
            this.generation = generation;
        }

        void run() {
            Restore fresh;
            try {
                fresh = client.resources(Restore.class).withName(name).get();
            } catch (KubernetesClientException e) {
                claimed.remove(uid);
                LOG.log(Level.WARNING, "cannot read Restore " + name + ": " + e.getMessage() + "; retrying later");
                return;
            }
            if (fresh == null || !uid.equals(fresh.getMetadata().getUid())
                    || (phase(fresh) != null && phase(fresh) != BackupPhase.Pending)) {
                return;
            }
            RestoreSpec spec = fresh.getSpec();
            PointRef point;
            Path target;
            try {
                target = target(spec);
                point = source(spec);
            } catch (Exception e) {
                fail(e instanceof JobFailure f ? f : FailureReasons.classify(e, FailureReasons.Work.RESTORE));
                return;
            }
            try {
                synchronized (this) {
                    fields.put("phase", BackupPhase.Running.name());
                    fields.put("restorePointId", point.pointId());
                    fields.put("quickRollback", false);
                    fields.put("startTime", clock.instant().toString());
                    setCondition("True", "Running", "writing restore point " + point + " to " + target + " on node "
                            + settings.node());
                    status.apply(name, fields);
                }
            } catch (KubernetesClientException e) {
                claimed.remove(uid);
                LOG.log(Level.WARNING, "cannot mark Restore " + name + " Running: " + e.getMessage()
                        + "; retrying at the next resync");
                return;
            }
            LOG.log(Level.INFO, "Restore {0}: writing {1} to {2}", name, point, target);
            try {
                RestoreResult r = runner.run(point, target, Boolean.TRUE.equals(spec.force()), this::progress);
                succeed(r);
            } catch (Exception e) {
                JobFailure f = e instanceof JobFailure jf ? jf
                        : FailureReasons.classify(e, FailureReasons.Work.RESTORE);
                fail(f);
                if (f.reason().equals(FailureReasons.Work.RESTORE.reason())) {
                    LOG.log(Level.WARNING, "Restore " + name + " failed", e);
                }
            }
        }

        /**
         * Called by the restore reader at least every two seconds; written here at most every
         * progressInterval, on the restore thread (a status write takes milliseconds).
         */
        private synchronized void progress(RestoreProgress p) {
            latest = p;
            Instant now = clock.instant();
            if (finished || closing || p.done()
                    || Duration.between(lastProgressWrite, now).compareTo(settings.progressInterval()) < 0) {
                return;
            }
            lastProgressWrite = now;
            fields.put("progress", progressMap(p, now));
            try {
                status.apply(name, fields);
            } catch (KubernetesClientException e) {
                LOG.log(Level.WARNING, "cannot write the progress of Restore " + name + ": " + e.getMessage());
            }
        }

        private synchronized void succeed(RestoreResult r) {
            finished = true;
            Instant now = clock.instant();
            Map<String, Object> progress = latest != null ? progressMap(latest, now) : new LinkedHashMap<>();
            progress.put("totalBytes", r.deviceSizeBytes());
            progress.put("scannedBytes", r.deviceSizeBytes());
            progress.put("percent", 100);
            progress.put("etaSeconds", 0);
            progress.putIfAbsent("bytesPerSecond", r.durationMillis() == 0 ? 0
                    : r.deviceSizeBytes() * 1000 / r.durationMillis());
            progress.put("updateTime", now.toString());
            fields.put("phase", BackupPhase.Succeeded.name());
            fields.put("completionTime", now.toString());
            fields.put("progress", progress);
            String message = "restore point " + r.node() + "/" + r.pointId() + " written to " + r.target() + " ("
                    + r.chunksRewritten() + " of " + r.chunksTotal() + " chunks, every one verified)"
                    + (r.notes().isEmpty() ? "" : "; " + String.join("; ", r.notes()));
            fields.put("message", message);
            setCondition("False", "Succeeded", message);
            applyFinal();
            LOG.log(Level.INFO, "Restore {0}: {1}", name, message);
        }

        private synchronized void fail(JobFailure f) {
            finished = true;
            Instant now = clock.instant();
            if (latest != null) {
                fields.put("progress", progressMap(latest, now));
            }
            fields.put("phase", BackupPhase.Failed.name());
            fields.put("completionTime", now.toString());
            fields.put("reason", f.reason());
            fields.put("message", f.getMessage());
            setCondition("False", f.reason(), f.getMessage());
            applyFinal();
            LOG.log(Level.WARNING, "Restore {0} failed ({1}): {2}", name, f.reason(), f.getMessage());
        }

        /** A Restore Running without this process: a previous agent stopped during it. */
        synchronized void failLeftBehind(RestoreStatus old) {
            if (old.startTime() != null) {
                fields.put("startTime", old.startTime());
            }
            if (old.restorePointId() != null) {
                fields.put("restorePointId", old.restorePointId());
            }
            if (old.progress() != null) {
                fields.put("progress", client.getKubernetesSerialization().convertValue(old.progress(), Map.class));
            }
            fail(new JobFailure(BackupController.AGENT_RESTARTED, "the agent on node " + settings.node()
                    + " restarted while this restore ran; the target may be partly written and must not be used: "
                    + "create a new Restore to write it again"));
        }

        private void applyFinal() {
            if (closing) {
                LOG.log(Level.WARNING, "Restore {0} was interrupted by the agent's stop; it stays Running until the "
                        + "next start marks it Failed ({1})", name, BackupController.AGENT_RESTARTED);
                return;
            }
            for (int attempt = 1; ; attempt++) {
                try {
                    status.apply(name, fields);
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() == 404 || attempt == 5) {
                        LOG.log(Level.ERROR, "cannot write the final status of Restore " + name + ": "
                                + e.getMessage());
                        return;
                    }
                    try {
                        TimeUnit.SECONDS.sleep(attempt);
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

    /** Restore progress in the shared Progress shape: totalBytes to write, scannedBytes written so far. */
    static Map<String, Object> progressMap(RestoreProgress p, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", p.toRestoreBytes());
        m.put("scannedBytes", p.restoredBytes());
        m.put("percent", (int) Math.floor(p.percent()));
        m.put("bytesPerSecond", (long) p.bytesPerSecond());
        if (p.etaSeconds().isPresent()) {
            m.put("etaSeconds", p.etaSeconds().getAsLong());
        }
        m.put("updateTime", now.toString());
        return m;
    }
}
