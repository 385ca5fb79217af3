package io.blockvault.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Repository figures from the operator's periodic checks, and what retention did. Gauges read the
 * last check of each repository; {@code blockvault_repository_up} is 0 after a failed check while
 * the other gauges keep the last known figures (NaN before the first success).
 */
public class RepositoryMetrics {

    /** The last check of one repository. */
    public record Figures(double capacityBytes, double usedBytes, double restorePoints, double dedupRatio,
            boolean clockWarning, boolean clockFrozen) {
    }

    private record Gauges(AtomicReference<Figures> figures, AtomicReference<Boolean> up) {
    }

    private static final Figures UNKNOWN = new Figures(Double.NaN, Double.NaN, Double.NaN, Double.NaN, false,
            false);

    private final MeterRegistry registry;
    private final Map<String, Gauges> repositories = new ConcurrentHashMap<>();

    public RepositoryMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A successful check of {@code repository}. */
    public void up(String repository, Figures figures) {
        Gauges g = gauges(repository);
        g.figures().set(figures);
        g.up().set(true);
    }

    /** A failed check: the repository could not be reached or asked. */
    public void down(String repository) {
        gauges(repository).up().set(false);
    }

    /** Forgets a deleted repository's gauges. */
    public void remove(String repository) {
        if (repositories.remove(repository) != null) {
            for (String name : new String[] {"blockvault.repository.capacity.bytes", "blockvault.repository.used.bytes",
                "blockvault.repository.restore.points", "blockvault.repository.dedup.ratio", "blockvault.repository.up",
                "blockvault.repository.clock.warning", "blockvault.repository.clock.frozen"}) {
                registry.find(name).tag("repository", repository).meters().forEach(registry::remove);
            }
        }
    }

    public void retentionDeleted(String repository, int count) {
        Counter.builder("blockvault.retention.deleted").description("Restore points retention asked the repository "
                + "to delete").tag("repository", repository).register(registry).increment(count);
    }

    public void retentionLocked(String repository, int count) {
        Counter.builder("blockvault.retention.locked").description("Restore points retention would delete but kept "
                + "because they are still immutable").tag("repository", repository).register(registry).increment(count);
    }

    private Gauges gauges(String repository) {
        return repositories.computeIfAbsent(repository, r -> {
            Gauges g = new Gauges(new AtomicReference<>(UNKNOWN), new AtomicReference<>(false));
            gauge("blockvault.repository.capacity.bytes", "Size of the repository's filesystem", r,
                    g, f -> f.capacityBytes());
            gauge("blockvault.repository.used.bytes", "Bytes in use on the repository's filesystem", r, g,
                    f -> f.usedBytes());
            gauge("blockvault.repository.restore.points", "Restore points in the repository", r, g,
                    f -> f.restorePoints());
            gauge("blockvault.repository.dedup.ratio", "Logical bytes of the restore points over stored bytes", r, g,
                    f -> f.dedupRatio());
            gauge("blockvault.repository.clock.warning", "1 while the repository's guard reports a clock warning", r,
                    g, f -> f.clockWarning() ? 1 : 0);
            gauge("blockvault.repository.clock.frozen", "1 while the repository guard's trusted clock is frozen: it "
                    + "deletes nothing until root on the repository host accepts the time", r, g,
                    f -> f.clockFrozen() ? 1 : 0);
            Gauge.builder("blockvault.repository.up", g, x -> x.up().get() ? 1 : 0)
                    .description("1 when the operator's last check connected to the repository").tag("repository", r)
                    .register(registry);
            return g;
        });
    }

    private void gauge(String name, String description, String repository, Gauges g,
            java.util.function.ToDoubleFunction<Figures> value) {
        Gauge.builder(name, g, x -> value.applyAsDouble(x.figures().get())).description(description)
                .tag("repository", repository).register(registry);
    }
}
