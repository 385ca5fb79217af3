package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.ProjectPaths;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The alerts and the dashboard query only metrics the operator documents (operator/README.md),
 * under their Prometheus names. The operator's own MetricNamesInChartTest checks the same files
 * against what its registry really exports; this list lets the chart be checked on its own and
 * names the repository metrics the operator must export.
 */
class ChartMetricsTest {

    /** Prometheus series names: counters end in _total, summaries and timers give _count, _sum and _max. */
    static final Set<String> OPERATOR_METRICS = Set.of(
            "blockvault_backups_total",
            "blockvault_backup_failures_total",
            "blockvault_backup_bytes_count", "blockvault_backup_bytes_sum", "blockvault_backup_bytes_max",
            "blockvault_backup_duration_seconds_count", "blockvault_backup_duration_seconds_sum",
            "blockvault_backup_duration_seconds_max",
            "blockvault_backup_last_success_timestamp_seconds",
            // Gauges per repository (label repository).
            "blockvault_repository_capacity_bytes", "blockvault_repository_used_bytes",
            "blockvault_repository_restore_points", "blockvault_repository_dedup_ratio",
            "blockvault_repository_up", "blockvault_repository_clock_warning", "blockvault_repository_clock_frozen",
            // Counters per repository (label repository).
            "blockvault_retention_deleted_total", "blockvault_retention_locked_total");

    private static final Pattern METRIC = Pattern.compile("\\bblockvault_[a-z_]+");

    @Test
    void alertsAndDashboardQueryOnlyOperatorMetrics() throws IOException {
        Set<String> queried = new TreeSet<>();
        for (String file : List.of("files/prometheus-rules.yaml", "files/grafana-dashboard.json")) {
            Matcher m = METRIC.matcher(Files.readString(Helm.CHART.resolve(file)));
            while (m.find()) {
                queried.add(m.group());
            }
        }
        assertThat(OPERATOR_METRICS).as("metrics the chart queries").containsAll(queried);
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertOfTheIssueIsThereWithAnExpressionAndASeverity() throws IOException {
        Map<String, Map<String, Object>> rules = alerts();
        assertThat(rules).containsOnlyKeys("BlockvaultBackupFailed", "BlockvaultLastSuccessTooOld",
                "BlockvaultSnapshotOverflow", "BlockvaultRepositoryNearlyFull", "BlockvaultRepositoryUnreachable",
                "BlockvaultClockJumpDetected", "BlockvaultClockFrozen");
        for (var rule : rules.entrySet()) {
            assertThat((String) rule.getValue().get("expr")).as(rule.getKey()).isNotBlank();
            assertThat((Map<String, Object>) rule.getValue().get("labels")).as(rule.getKey()).containsKey("severity");
            assertThat((Map<String, Object>) rule.getValue().get("annotations")).as(rule.getKey())
                    .containsKeys("summary", "description");
        }
        assertThat(rules.get("BlockvaultRepositoryUnreachable")).containsEntry("for", "10m")
                .extracting(r -> r.get("expr")).isEqualTo("blockvault_repository_up == 0");
        assertThat((String) rules.get("BlockvaultRepositoryNearlyFull").get("expr"))
                .contains("blockvault_repository_used_bytes", "blockvault_repository_capacity_bytes",
                        "__REPOSITORY_FULL_RATIO__");
        assertThat((String) rules.get("BlockvaultClockJumpDetected").get("expr"))
                .isEqualTo("blockvault_repository_clock_warning == 1");
        assertThat(rules.get("BlockvaultClockFrozen")).containsEntry("expr", "blockvault_repository_clock_frozen == 1")
                .extracting(r -> ((Map<String, Object>) r.get("labels")).get("severity")).isEqualTo("critical");
    }

    /** The overflow alert matches the reason string the agent really reports. */
    @Test
    void snapshotOverflowAlertUsesTheAgentsReason() throws IOException {
        String agent = Files.readString(ProjectPaths.root()
                .resolve("node-agent/src/main/java/io/blockvault/agent/controller/FailureReasons.java"));
        Matcher reason = Pattern.compile("new JobFailure\\(\"([A-Za-z]+)\", what \\+ \"; give the difference storage")
                .matcher(agent);
        assertThat(reason.find()).as("the agent's overflow reason in FailureReasons.java").isTrue();
        assertThat((String) alerts().get("BlockvaultSnapshotOverflow").get("expr"))
                .contains("blockvault_backup_failures_total{reason=\"" + reason.group(1) + "\"}");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> alerts() throws IOException {
        Map<String, Object> file = new KubernetesSerialization()
                .unmarshal(Files.readString(Helm.CHART.resolve("files/prometheus-rules.yaml")), Map.class);
        List<Map<String, Object>> groups = (List<Map<String, Object>>) file.get("groups");
        return groups.stream().flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream())
                .collect(Collectors.toMap(r -> (String) r.get("alert"), r -> r));
    }
}
