package io.blockvault.agent.controller;

import io.blockvault.api.v1alpha1.BackupPhase;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * What the Backup and Restore controllers share: the watch of this node's objects, the claim of
 * each one at most once per process, the job threads, and the rule for an object found Running
 * that this process did not start (a previous agent stopped during it: it becomes Failed with
 * reason {@link #AGENT_RESTARTED}, never rerun).
 */
abstract class JobController<R extends HasMetadata> implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(JobController.class.getName());

    public static final String AGENT_RESTARTED = "AgentRestarted";

    final KubernetesClient client;
    final Clock clock;
    final StatusWriter writer;
    /** UIDs this process has claimed (queued, running or finished); pruned when the object is deleted. */
    final Set<String> claimed = ConcurrentHashMap.newKeySet();
    final ThreadPoolExecutor jobs;
    private final Class<R> kind;
    private final Duration progressInterval;
    private SharedIndexInformer<R> informer;
    /** Set by close: an interrupted job writes nothing more; the next start marks it AgentRestarted. */
    private volatile boolean closing;

    JobController(KubernetesClient client, Class<R> kind, Clock clock, int threads, Duration progressInterval) {
        this.client = client;
        this.kind = kind;
        this.clock = clock;
        this.progressInterval = progressInterval;
        this.writer = new StatusWriter(client, kind);
        AtomicInteger n = new AtomicInteger();
        String thread = writer.kind().toLowerCase(Locale.ROOT) + "-";
        this.jobs = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> daemon(r, thread + n.incrementAndGet()));
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The object's phase; null before anyone wrote one. */
    abstract BackupPhase phase(R r);

    /** Whether this agent runs it: its node, its repository (and its policy, for Backups). */
    abstract boolean mine(R r);

    /** Claims a new or Pending object, already added to {@link #claimed}. */
    abstract void claim(R r, BackupPhase phase);

    /** The status fields a left-behind object keeps when it is marked Failed (what it had reached). */
    abstract List<String> keptWhenLeftBehind();

    /** The message of the AgentRestarted failure: what the stop left behind and what to do now. */
    abstract String leftBehindMessage();

    /** Starts watching the objects whose {@code nodeField} is {@code node}; returns once they are listed. */
    synchronized void watch(String nodeField, String node, Duration resync) {
        if (informer != null) {
            throw new IllegalStateException("the controller is already started");
        }
        informer = client.resources(kind).withField(nodeField, node).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(R r) {
                consider(r);
            }

            @Override
            public void onUpdate(R before, R after) {
                consider(after);
            }

            @Override
            public void onDelete(R r, boolean finalStateUnknown) {
                claimed.remove(r.getMetadata().getUid());
            }
        }, resync.toMillis());
    }

    /** Stops watching and interrupts running jobs (their objects stay Running until the next start). */
    @Override
    public synchronized void close() {
        closing = true;
        if (informer != null) {
            informer.close();
        }
        jobs.shutdownNow();
        try {
            jobs.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    JobStatus status(R r) {
        return new JobStatus(writer, r.getMetadata().getName(), r.getMetadata().getGeneration(), clock,
                progressInterval, () -> closing);
    }

    private void consider(R r) {
        String name = r.getMetadata().getName();
        try {
            if (!mine(r)) {
                return;
            }
            BackupPhase phase = phase(r);
            String uid = r.getMetadata().getUid();
            if (phase == BackupPhase.Succeeded || phase == BackupPhase.Failed || !claimed.add(uid)) {
                return;
            }
            if (phase == BackupPhase.Running) {
                failLeftBehind(r);
                return;
            }
            claim(r, phase);
        } catch (KubernetesClientException e) {
            // Not claimed after all: the next resync retries.
            claimed.remove(r.getMetadata().getUid());
            LOG.log(Level.WARNING, "cannot claim " + writer.kind() + " " + name + ": " + e.getMessage()
                    + "; retrying at the next resync");
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "handling " + writer.kind() + " " + name + " failed", e);
        }
    }

    /** Running without this process: a previous agent was stopped during it. */
    private void failLeftBehind(R seen) {
        // Only what the API server has now: the informer's copy may be older.
        R fresh = client.resources(kind).withName(seen.getMetadata().getName()).get();
        if (fresh == null || !seen.getMetadata().getUid().equals(fresh.getMetadata().getUid())
                || phase(fresh) != BackupPhase.Running) {
            return;
        }
        JobStatus status = status(fresh);
        Map<?, ?> old = (Map<?, ?>) client.getKubernetesSerialization().convertValue(fresh, Map.class).get("status");
        for (String field : keptWhenLeftBehind()) {
            if (old.get(field) != null) {
                status.put(field, old.get(field));
            }
        }
        status.failed(clock.instant(), new JobFailure(AGENT_RESTARTED, leftBehindMessage()));
        // One write on the informer thread; if it fails, consider() unclaims and the next resync retries.
        status.apply();
        LOG.log(Level.WARNING, "{0} {1} was Running when this agent started: marked Failed ({2})", writer.kind(),
                fresh.getMetadata().getName(), AGENT_RESTARTED);
    }

    /** The object as the API server has it now if it is still to be run by this job, else null. */
    R pending(String name, String uid) {
        R fresh;
        try {
            fresh = client.resources(kind).withName(name).get();
        } catch (KubernetesClientException e) {
            claimed.remove(uid);
            LOG.log(Level.WARNING, "cannot read " + writer.kind() + " " + name + ": " + e.getMessage()
                    + "; retrying later");
            return null;
        }
        if (fresh == null || !uid.equals(fresh.getMetadata().getUid())) {
            return null; // deleted meanwhile
        }
        BackupPhase phase = phase(fresh);
        return phase == null || phase == BackupPhase.Pending ? fresh : null; // else the operator's timeout decided
    }

    /** Writes Running with startTime and what {@code fill} adds; false (and unclaimed) if that write fails. */
    boolean markRunning(R r, JobStatus status, Consumer<JobStatus> fill) {
        try {
            synchronized (status) {
                status.put("phase", BackupPhase.Running.name());
                status.put("startTime", clock.instant().toString());
                fill.accept(status);
                status.apply();
            }
            return true;
        } catch (KubernetesClientException e) {
            claimed.remove(r.getMetadata().getUid());
            LOG.log(Level.WARNING, "cannot mark " + writer.kind() + " " + r.getMetadata().getName() + " Running: "
                    + e.getMessage() + "; retrying at the next resync");
            return false;
        }
    }
}
