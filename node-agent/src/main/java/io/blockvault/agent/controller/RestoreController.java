package io.blockvault.agent.controller;

import io.blockvault.agent.device.BlockDevices;
import io.blockvault.agent.restore.RestoreResult;
import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreSpec;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.client.RestoreProgress;
import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.util.Set;
import java.util.Optional;

/**
 * Runs the Restores whose {@code spec.target.nodeName} is this node (field selector on that
 * selectable field), one at a time, with the agent's part of the status written like a Backup's:
 * Running with the resolved restorePointId, progress at most every {@code progressInterval}, then
 * Succeeded or Failed with a reason. The operator owns only its own conditions (Degraded).
 *
 * <p>Idempotent across restarts: finished Restores are never rerun; one found Running that this
 * process did not start becomes Failed/AgentRestarted (its target may be partly written).
 */
public final class RestoreController extends JobController<Restore> {

    private static final System.Logger LOG = System.getLogger(RestoreController.class.getName());

    public static final String PVC_UNSUPPORTED = "PvcRestoreUnsupported";
    public static final String TARGET_MOUNTED = "TargetMounted";
    /** The source Backup was written to another repository than the one this Restore names. */
    public static final String REPOSITORY_MISMATCH = "RepositoryMismatch";

    /** Runs one restore of a resolved point to a checked target; the controller's view of the engine. */
    @FunctionalInterface
    public interface RestoreRunner {
        RestoreResult run(String repository, PointRef point, Path target, boolean force, RestoreListener listener)
                throws IOException, JobFailure;
    }

    /**
     * @param restoreFileDir the only directory a {@code spec.target.file} may be in (a host directory
     *                       mounted at the same path, so the file outlives the pod)
     */
    public record Settings(String node, Set<String> repositories, Path restoreFileDir, Duration progressInterval,
            Duration resync) {
        public Settings {
            Objects.requireNonNull(node, "node");
            repositories = Set.copyOf(repositories);
            Objects.requireNonNull(restoreFileDir, "restoreFileDir");
        }
    }

    private final Settings settings;
    private final RestoreRunner runner;

    public RestoreController(KubernetesClient client, Settings settings, RestoreRunner runner, Clock clock) {
        super(client, Restore.class, clock, 1, settings.progressInterval());
        this.settings = settings;
        this.runner = runner;
    }

    public void start() {
        watch("spec.target.nodeName", settings.node(), settings.resync());
    }

    @Override
    BackupPhase phase(Restore r) {
        return r.getStatus() == null ? null : r.getStatus().phase();
    }

    @Override
    boolean mine(Restore r) {
        RestoreSpec spec = r.getSpec();
        if (spec == null || spec.target() == null || !settings.node().equals(spec.target().nodeName())) {
            return false;
        }
        if (!settings.repositories().contains(spec.repository())) {
            // The operator rolls out this node's agent with that repository; the new pod claims it.
            LOG.log(Level.DEBUG, "Restore {0} names repository {1}, which this agent does not serve yet; left Pending",
                    r.getMetadata().getName(), spec.repository());
            return false;
        }
        return true;
    }

    @Override
    void claim(Restore r, BackupPhase phase) {
        jobs.execute(new Job(r)::run);
    }

    @Override
    List<String> keptWhenLeftBehind() {
        return List.of("startTime", "restorePointId", "progress");
    }

    @Override
    String leftBehindMessage() {
        return "the agent on node " + settings.node() + " restarted while this restore ran; the target may be "
                + "partly written and must not be used: create a new Restore to write it again";
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

    /** One claimed Restore; all its status writes go through its JobStatus, one at a time. */
    private final class Job {
        private final String name;
        private final String uid;
        private final JobStatus status;
        private RestoreProgress latest;

        Job(Restore r) {
            this.name = r.getMetadata().getName();
            this.uid = r.getMetadata().getUid();
            this.status = status(r);
        }

        void run() {
            Restore fresh = pending(name, uid);
            if (fresh == null) {
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
            if (!markRunning(fresh, status, s -> {
                s.put("restorePointId", point.pointId());
                s.put("quickRollback", false);
                s.condition("True", "Running", "writing restore point " + point + " to " + target + " on node "
                        + settings.node());
            })) {
                return;
            }
            LOG.log(Level.INFO, "Restore {0}: writing {1} to {2}", name, point, target);
            try {
                RestoreResult r = runner.run(spec.repository(), point, target, Boolean.TRUE.equals(spec.force()),
                        this::progress);
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
        private void progress(RestoreProgress p) {
            synchronized (status) {
                latest = p;
                if (!p.done() && status.progressDue()) {
                    status.progress(progressMap(p, clock.instant()));
                }
            }
        }

        private void succeed(RestoreResult r) {
            synchronized (status) {
                Instant now = clock.instant();
                Map<String, Object> progress = latest != null ? progressMap(latest, now) : new LinkedHashMap<>();
                progress.put("totalBytes", r.deviceSizeBytes());
                progress.put("scannedBytes", r.deviceSizeBytes());
                progress.put("percent", 100);
                progress.put("etaSeconds", 0);
                progress.putIfAbsent("bytesPerSecond", r.durationMillis() == 0 ? 0
                        : r.deviceSizeBytes() * 1000 / r.durationMillis());
                progress.put("updateTime", now.toString());
                status.succeed(now, progress, "restore point " + r.node() + "/" + r.pointId() + " written to "
                        + r.target() + " (" + r.chunksRewritten() + " of " + r.chunksTotal() + " chunks, every one "
                        + "verified)" + (r.notes().isEmpty() ? "" : "; " + String.join("; ", r.notes())));
            }
        }

        private void fail(JobFailure f) {
            synchronized (status) {
                Instant now = clock.instant();
                status.fail(now, latest == null ? null : progressMap(latest, now), f);
            }
        }
    }

    /** Restore progress in the shared Progress shape: totalBytes to write, scannedBytes written so far. */
    static Map<String, Object> progressMap(RestoreProgress p, Instant now) {
        return JobStatus.progressMap(p.toRestoreBytes(), p.restoredBytes(), p.percent(), p.bytesPerSecond(),
                p.etaSeconds(), now);
    }
}
