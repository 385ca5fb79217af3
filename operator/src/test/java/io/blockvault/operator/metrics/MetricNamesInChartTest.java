package io.blockvault.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupMode;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupSpec;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.BackupType;
import io.blockvault.api.v1alpha1.Progress;
import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every metric the chart's alerts and dashboard query is one the operator exports under that
 * Prometheus name, so a renamed meter cannot silently leave an alert that never fires.
 */
class MetricNamesInChartTest {

    private static final Instant START = Instant.parse("2026-03-01T00:00:00Z");
    private static final Pattern METRIC = Pattern.compile("\\bblockvault_[a-z_]+");

    @Test
    void chartQueriesOnlyExportedMetrics() throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BackupMetrics metrics = new BackupMetrics(registry, START);
        metrics.observe(backup("ok", BackupPhase.Succeeded, null));
        metrics.observe(backup("bad", BackupPhase.Failed, "DiffStorageOverflow"));
        RepositoryMetrics repositories = new RepositoryMetrics(registry);
        repositories.up("main", new RepositoryMetrics.Figures(1000, 400, 3, 2.5, false, false));
        repositories.retentionDeleted("main", 1);
        repositories.retentionLocked("main", 1);
        Set<String> exported = new TreeSet<>();
        for (String line : registry.scrape().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                exported.add(line.split("[{ ]", 2)[0]);
            }
        }

        Set<String> queried = new TreeSet<>();
        for (String file : new String[] {"files/prometheus-rules.yaml", "files/grafana-dashboard.json"}) {
            Matcher m = METRIC.matcher(Files.readString(ProjectPaths.root().resolve("helm/blockvault").resolve(file)));
            while (m.find()) {
                queried.add(m.group());
            }
        }
        assertThat(queried).as("metrics the chart queries").hasSizeGreaterThanOrEqualTo(5);
        assertThat(exported).as("metrics the operator exports").containsAll(queried);
    }

    private static Backup backup(String uid, BackupPhase phase, String reason) {
        Backup b = new Backup();
        b.setMetadata(new ObjectMetaBuilder().withName(uid).withUid(uid).build());
        b.setSpec(new BackupSpec("p", "main", "n1", "/dev/sda", BackupType.Auto));
        b.setStatus(new BackupStatus(phase, BackupMode.Cbt, null, null, null, null, null, START.plusSeconds(10).toString(),
                START.plusSeconds(70).toString(), null, new Progress(1000L, 1000L, 100L, 40L, 100, null, null, null),
                reason, null, null));
        return b;
    }
}
