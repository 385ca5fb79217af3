package io.blockvault.operator.metrics;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.Progress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Backup metrics, fed from Backup status as the operator observes it (the agent writes the status).
 *
 * <p>A finished Backup is counted once per operator process, and only when it finished after the
 * process started: a restarted operator does not count history twice (Prometheus sees the counter
 * reset and carries on). The last-success gauge is set from every finished Backup, old or new.
 */
public class BackupMetrics {

    private final MeterRegistry registry;
    private final Instant processStart;
    private final Set<String> counted = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();

    public BackupMetrics(MeterRegistry registry, Instant processStart) {
        this.registry = registry;
        this.processStart = processStart;
    }

    /** Records what {@code backup}'s status says, once it has finished. */
    public void observe(Backup backup) {
        BackupStatus status = backup.getStatus();
        if (status == null || (status.phase() != BackupPhase.Succeeded && status.phase() != BackupPhase.Failed)) {
            return;
        }
        String node = backup.getSpec().nodeName();
        String device = backup.getSpec().device();
        Instant completion = parse(status.completionTime());
        if (status.phase() == BackupPhase.Succeeded && completion != null) {
            lastSuccess.computeIfAbsent(node + "\n" + device, k -> {
                AtomicLong value = new AtomicLong();
                Gauge.builder("blockvault.backup.last.success.timestamp.seconds", value, AtomicLong::get)
                        .description("When the last backup of a device on a node succeeded (Unix time)")
                        .tag("node", node).tag("device", device).register(registry);
                return value;
            }).accumulateAndGet(completion.getEpochSecond(), Math::max);
        }
        if (completion == null || completion.isBefore(processStart) || !counted.add(backup.getMetadata().getUid())) {
            return;
        }
        String mode = status.mode() == null ? "Unknown" : status.mode().name();
        Counter.builder("blockvault.backups").description("Finished backups by result and mode")
                .tag("result", status.phase().name()).tag("mode", mode).register(registry).increment();
        if (status.phase() == BackupPhase.Failed) {
            Counter.builder("blockvault.backup.failures").description("Failed backups by reason")
                    .tag("reason", status.reason() == null ? "Unknown" : status.reason()).register(registry)
                    .increment();
        }
        Progress progress = status.progress();
        if (progress != null) {
            bytes("scanned", progress.scannedBytes());
            bytes("changed", progress.changedBytes());
            bytes("sent", progress.sentBytes());
        }
        Instant start = parse(status.startTime());
        if (start != null && !completion.isBefore(start)) {
            Timer.builder("blockvault.backup.duration").description("Duration of finished backups")
                    .tag("result", status.phase().name()).tag("mode", mode).register(registry)
                    .record(Duration.between(start, completion));
        }
    }

    /** Forgets a deleted Backup (its uid only; the counters keep what happened). */
    public void forget(Backup backup) {
        counted.remove(backup.getMetadata().getUid());
    }

    private void bytes(String kind, Long value) {
        if (value != null && value >= 0) {
            DistributionSummary.builder("blockvault.backup.bytes").baseUnit("bytes")
                    .description("Bytes of finished backups: scanned (read), changed, sent to the repository")
                    .tag("kind", kind).register(registry).record(value);
        }
    }

    private static Instant parse(String time) {
        try {
            return time == null ? null : Instant.parse(time);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }
}
