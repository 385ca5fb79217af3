package io.blockvault.operator.policy;

import io.blockvault.operator.Labels;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Deterministic names of scheduled Backup objects: the same (policy, node, device, schedule time)
 * always gives the same name, so a restarted operator that runs a tick again gets "already exists"
 * instead of a duplicate.
 */
public final class BackupNames {

    private static final int MAX_NAME = 253;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmm").withZone(ZoneOffset.UTC);

    private BackupNames() {
    }

    /** {@code <policy>-<node>-<device-hash>-<yyyyMMdd-HHmm in UTC>}, shortened with a hash when too long. */
    public static String scheduled(String policy, String node, String device, Instant scheduleTime) {
        String suffix = "-" + deviceHash(device) + "-" + TIME.format(scheduleTime);
        String head = policy + "-" + node;
        if (head.length() + suffix.length() <= MAX_NAME) {
            return head + suffix;
        }
        String hash = "-" + Labels.hash(head, 12);
        String cut = head.substring(0, MAX_NAME - suffix.length() - hash.length()).replaceAll("[-.]+$", "");
        return cut + hash + suffix;
    }

    /** Short stable id of a device path, used in names and labels. */
    public static String deviceHash(String device) {
        return Labels.hash(device, 8);
    }
}
