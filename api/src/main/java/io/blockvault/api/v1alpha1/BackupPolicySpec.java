package io.blockvault.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.List;

@ValidationRule(value = "self.schedule.matches('" + Names.CRON + "')",
        message = "spec.schedule must be five cron fields (minute hour day-of-month month day-of-week) such as"
                + " '30 1 * * *', or one of @hourly, @daily, @weekly, @monthly, @yearly",
        reason = "FieldValueInvalid", fieldPath = ".schedule")
public record BackupPolicySpec(
        @Required
        @Pattern(Names.DNS_SUBDOMAIN)
        @JsonPropertyDescription("Name of the BackupRepository that receives the backups.")
        String repository,

        @JsonPropertyDescription("Nodes this policy covers; all nodes when omitted.")
        LabelSelector nodeSelector,

        @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription("Block devices to back up on each covered node.")
        List<DeviceSelector> devices,

        @Required
        @Size(max = 128)
        @JsonPropertyDescription("When to back up: five cron fields (minute hour day month weekday) or @daily, @hourly, ...")
        String schedule,

        @Pattern(Names.TIME_ZONE)
        @JsonPropertyDescription("IANA time zone of the schedule, such as Europe/Berlin; UTC when omitted.")
        String timeZone,

        @Min(0)
        @JsonPropertyDescription("A run missed (operator down) by more than this many seconds is skipped, not started late.")
        Long startingDeadlineSeconds,

        @Min(1)
        @JsonPropertyDescription("Force a full read (active full) when the last one is older than this many days.")
        Integer activeFullIntervalDays,

        @JsonPropertyDescription("Which restore points to keep (grandfather-father-son).")
        Retention retention,

        @JsonPropertyDescription("How the snapshot is made consistent.")
        Consistency consistency,

        @JsonPropertyDescription("Where the snapshot keeps copy-on-write data while a backup runs.")
        DiffStorage diffStorage,

        @Default("Zstd")
        @JsonPropertyDescription("Compression of stored chunks.")
        Compression compression,

        @Min(1)
        @JsonPropertyDescription("Upper limit of upload bandwidth per node in MiB/s; unlimited when omitted.")
        Integer bandwidthLimitMiBps,

        @Default("1")
        @Min(1)
        @Max(64)
        @JsonPropertyDescription("How many devices of one node are backed up at the same time.")
        Integer concurrency,

        @Default("false")
        @JsonPropertyDescription("Stop scheduling new backups; running ones finish.")
        Boolean suspend,

        @Default("10")
        @Min(0)
        @JsonPropertyDescription("Succeeded Backup objects to keep per node and device (restore points are kept by retention).")
        Integer successfulBackupsHistoryLimit,

        @Default("5")
        @Min(0)
        @JsonPropertyDescription("Failed Backup objects to keep per node and device.")
        Integer failedBackupsHistoryLimit) {

    /** One device, or a glob of devices, on every covered node. */
    public record DeviceSelector(
            @Required
            @Pattern(Names.DEVICE_PATH)
            @JsonPropertyDescription("Device path under /dev; stable names such as /dev/disk/by-id/... are best; globs allowed.")
            String path) {
    }

    /** Grandfather-father-son retention; a point is kept when any rule keeps it. */
    @ValidationRule(value = "(has(self.keepLast) && self.keepLast > 0) || (has(self.keepDaily) && self.keepDaily > 0)"
            + " || (has(self.keepWeekly) && self.keepWeekly > 0) || (has(self.keepMonthly) && self.keepMonthly > 0)"
            + " || (has(self.keepYearly) && self.keepYearly > 0)",
            message = "retention keeps nothing: set at least one of keepLast, keepDaily, keepWeekly, keepMonthly, "
                    + "keepYearly above 0")
    public record Retention(
            @Min(0) @JsonPropertyDescription("Keep the newest N restore points.") Integer keepLast,
            @Min(0) @JsonPropertyDescription("Keep the last point of each of the last N days.") Integer keepDaily,
            @Min(0) @JsonPropertyDescription("Keep the last point of each of the last N weeks.") Integer keepWeekly,
            @Min(0) @JsonPropertyDescription("Keep the last point of each of the last N months.") Integer keepMonthly,
            @Min(0) @JsonPropertyDescription("Keep the last point of each of the last N years.") Integer keepYearly) {
    }

    /** Consistency of the point in time. */
    public record Consistency(
            @Default("true")
            @JsonPropertyDescription("Freeze mounted filesystems for the instant of the snapshot.")
            Boolean freeze,

            @JsonPropertyDescription("Command run on the node before the snapshot; a failure fails the backup.")
            Hook preHook,

            @JsonPropertyDescription("Command run on the node after the snapshot, also when it failed.")
            Hook postHook) {
    }

    /** A command run on the node. */
    public record Hook(
            @Required
            @Size(min = 1)
            @JsonPropertyDescription("Program and arguments, not interpreted by a shell.")
            List<String> command,

            @Default("60")
            @Min(1)
            @Max(3600)
            @JsonPropertyDescription("Seconds before the hook is killed and counted as failed.")
            Integer timeoutSeconds) {
    }

    /** Difference storage of the snapshot. */
    public record DiffStorage(
            @Default("/var/lib/blockvault/diff")
            @Pattern("^/.*$")
            @JsonPropertyDescription("Directory on the node, on a filesystem other than the protected devices.")
            String directory,

            @Default("4096")
            @Min(64)
            @JsonPropertyDescription("Most MiB the difference storage may grow to; beyond it the snapshot is lost, "
                    + "never the writes.")
            Long limitMiB) {
    }

    /** Compression of stored chunks. */
    public enum Compression {
        Zstd,
        None
    }
}
