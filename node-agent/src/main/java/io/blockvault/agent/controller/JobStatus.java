package io.blockvault.agent.controller;

import io.blockvault.api.v1alpha1.BackupPhase;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The agent's part of one Backup's or Restore's status, as last applied. Server-side apply removes
 * a field left out, so every write carries all of {@link #put these fields}. Callers that change
 * several fields at once hold the lock of this object so a progress write never sends half of them.
 */
final class JobStatus {

    private static final System.Logger LOG = System.getLogger(JobStatus.class.getName());

    private final StatusWriter writer;
    private final String name;
    private final Long generation;
    private final Clock clock;
    private final Duration progressInterval;
    /** True once the agent stops: an interrupted job writes nothing more; the next start marks it AgentRestarted. */
    private final BooleanSupplier stopping;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private volatile Instant lastProgressWrite = Instant.EPOCH;
    private boolean finished;
    private String conditionStatus;
    private Instant conditionSince;

    JobStatus(StatusWriter writer, String name, Long generation, Clock clock, Duration progressInterval,
            BooleanSupplier stopping) {
        this.writer = writer;
        this.name = name;
        this.generation = generation;
        this.clock = clock;
        this.progressInterval = progressInterval;
        this.stopping = stopping;
    }

    /**
     * The Progress shape both kinds write: {@code totalBytes} to go through and {@code scannedBytes}
     * done so far (read for a backup, written for a restore); a backup adds its own counts.
     */
    static Map<String, Object> progressMap(long totalBytes, long scannedBytes, double percent, double bytesPerSecond,
            OptionalLong etaSeconds, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", totalBytes);
        m.put("scannedBytes", scannedBytes);
        m.put("percent", (int) Math.floor(percent));
        m.put("bytesPerSecond", (long) bytesPerSecond);
        if (etaSeconds.isPresent()) {
            m.put("etaSeconds", etaSeconds.getAsLong());
        }
        m.put("updateTime", now.toString());
        return m;
    }

    synchronized void put(String field, Object value) {
        fields.put(field, value);
    }

    /** Sets the agent's condition; its lastTransitionTime moves only when the value changes. */
    synchronized void condition(String value, String reason, String message) {
        if (!value.equals(conditionStatus)) {
            conditionStatus = value;
            conditionSince = clock.instant();
        }
        fields.put("conditions", List.of(StatusWriter.condition(value, reason, message, conditionSince, generation)));
    }

    /** Writes the fields; the caller decides what a failure means. */
    synchronized void apply() {
        writer.apply(name, fields);
    }

    /** Writes the fields where a lost write is only late news (progress, retry notes): logged, not thrown. */
    synchronized void applyOrLog(String what) {
        try {
            writer.apply(name, fields);
        } catch (KubernetesClientException e) {
            LOG.log(Level.WARNING, "cannot write the " + what + " of " + writer.kind() + " " + name + ": "
                    + e.getMessage());
        }
    }

    /** True at most once every progressInterval: progress is news, not a log, and each write costs the apiserver. */
    boolean progressDue() {
        Instant now = clock.instant();
        if (Duration.between(lastProgressWrite, now).compareTo(progressInterval) < 0) {
            return false;
        }
        lastProgressWrite = now;
        return true;
    }

    synchronized void progress(Map<String, Object> progress) {
        if (finished || stopping.getAsBoolean()) {
            return;
        }
        fields.put("progress", progress);
        applyOrLog("progress");
    }

    synchronized void succeed(Instant now, Map<String, Object> progress, String message) {
        finished = true;
        fields.put("phase", BackupPhase.Succeeded.name());
        fields.put("completionTime", now.toString());
        fields.put("progress", progress);
        fields.put("message", message);
        condition("False", "Succeeded", message);
        applyFinal();
        LOG.log(Level.INFO, "{0} {1}: {2}", writer.kind(), name, message);
    }

    /** @param progress the last progress seen, or null to keep what the fields have */
    synchronized void fail(Instant now, Map<String, Object> progress, JobFailure f) {
        if (progress != null) {
            fields.put("progress", progress);
        }
        failed(now, f);
        applyFinal();
        LOG.log(Level.WARNING, "{0} {1} failed ({2}): {3}", writer.kind(), name, f.reason(), f.getMessage());
    }

    /** Sets the fields of a failure without writing them; {@link #fail} writes them as the final status. */
    synchronized void failed(Instant now, JobFailure f) {
        finished = true;
        fields.put("phase", BackupPhase.Failed.name());
        fields.put("completionTime", now.toString());
        fields.put("reason", f.reason());
        fields.put("message", f.getMessage());
        condition("False", f.reason(), f.getMessage());
    }

    /**
     * The final status must land: a few attempts, then the log (a Backup's timeout in the operator
     * takes over). Skipped once the agent stops: the next start marks the object AgentRestarted.
     */
    private void applyFinal() {
        if (stopping.getAsBoolean()) {
            LOG.log(Level.WARNING, "{0} {1} was interrupted by the agent''s stop; it stays Running until the next "
                    + "start marks it Failed ({2})", writer.kind(), name, JobController.AGENT_RESTARTED);
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                writer.apply(name, fields);
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404 || attempt == 5) {
                    LOG.log(Level.ERROR, "cannot write the final status of " + writer.kind() + " " + name + ": "
                            + e.getMessage());
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
}
