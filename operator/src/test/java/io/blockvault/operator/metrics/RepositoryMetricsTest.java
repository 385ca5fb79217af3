package io.blockvault.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Prometheus names and values the Helm chart's alerts rely on. */
class RepositoryMetricsTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RepositoryMetrics metrics = new RepositoryMetrics(registry);

    private List<String> samples() {
        // the text format may end a label set with a comma
        return Arrays.stream(registry.scrape().split("\n")).filter(l -> !l.startsWith("#"))
                .map(l -> l.replace(",}", "}")).toList();
    }

    @Test
    void gaugesFollowTheLastCheckAndCountersAccumulate() {
        metrics.up("main", new RepositoryMetrics.Figures(1000, 400, 3, 2.5, true, true));
        metrics.retentionDeleted("main", 2);
        metrics.retentionDeleted("main", 1);
        metrics.retentionLocked("main", 1);
        assertThat(samples()).contains(
                "blockvault_repository_capacity_bytes{repository=\"main\"} 1000.0",
                "blockvault_repository_used_bytes{repository=\"main\"} 400.0",
                "blockvault_repository_restore_points{repository=\"main\"} 3.0",
                "blockvault_repository_dedup_ratio{repository=\"main\"} 2.5",
                "blockvault_repository_up{repository=\"main\"} 1.0",
                "blockvault_repository_clock_warning{repository=\"main\"} 1.0",
                "blockvault_repository_clock_frozen{repository=\"main\"} 1.0",
                "blockvault_retention_deleted_total{repository=\"main\"} 3.0",
                "blockvault_retention_locked_total{repository=\"main\"} 1.0");

        // A failed check: down, the figures stay as last known.
        metrics.down("main");
        assertThat(samples()).contains("blockvault_repository_up{repository=\"main\"} 0.0",
                "blockvault_repository_restore_points{repository=\"main\"} 3.0");

        // A repository never reached has no figures yet, and is down.
        metrics.down("other");
        assertThat(samples()).contains("blockvault_repository_up{repository=\"other\"} 0.0",
                "blockvault_repository_capacity_bytes{repository=\"other\"} NaN");

        // A deleted repository's gauges go.
        metrics.remove("main");
        assertThat(samples()).noneMatch(l -> l.startsWith("blockvault_repository_") && l.contains("\"main\""));
    }
}
