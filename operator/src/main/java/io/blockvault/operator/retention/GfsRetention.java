package io.blockvault.operator.retention;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Grandfather-father-son retention of the restore points of one (node, device): a point is kept
 * when any rule keeps it, and a locked point is never deleted.
 *
 * <p>Rules, as in restic's and Proxmox Backup Server's {@code forget}: {@code keepLast} keeps the
 * newest N points; {@code keepDaily} keeps the newest point of each of the newest N calendar days
 * that have a point, and likewise weekly (ISO weeks, Monday first), monthly and yearly. Calendar
 * periods are those of the policy's time zone, so "daily" means the user's days, not UTC's.
 *
 * @param keepLast newest points to keep
 * @param keepDaily days to keep one point of
 * @param keepWeekly weeks to keep one point of
 * @param keepMonthly months to keep one point of
 * @param keepYearly years to keep one point of
 * @param zone time zone of the calendar periods
 */
public record GfsRetention(int keepLast, int keepDaily, int keepWeekly, int keepMonthly, int keepYearly,
        ZoneId zone) {

    public GfsRetention {
        if (keepLast < 0 || keepDaily < 0 || keepWeekly < 0 || keepMonthly < 0 || keepYearly < 0) {
            throw new IllegalArgumentException("retention counts cannot be negative");
        }
        Objects.requireNonNull(zone, "zone");
        if (keepLast + keepDaily + keepWeekly + keepMonthly + keepYearly == 0) {
            // The CRD rejects this; refusing here too means a bug can never turn into "delete everything".
            throw new IllegalArgumentException("retention keeps nothing: set at least one of keepLast, keepDaily, "
                    + "keepWeekly, keepMonthly, keepYearly above 0");
        }
    }

    /** The points to delete, oldest first: those no rule keeps and that are not locked at {@code now}. */
    public List<RestorePoint> toDelete(List<RestorePoint> points, Instant now) {
        return notKept(points).stream().filter(p -> !p.lockedAt(now)).toList();
    }

    /** The points no rule keeps, oldest first, locked or not. */
    public List<RestorePoint> notKept(List<RestorePoint> points) {
        List<RestorePoint> newestFirst = new ArrayList<>(points);
        newestFirst.sort(Comparator.comparing(RestorePoint::time).reversed().thenComparing(RestorePoint::id));
        Set<String> keep = new HashSet<>();
        newestFirst.stream().limit(keepLast).forEach(p -> keep.add(p.id()));
        keepOnePerPeriod(newestFirst, keepDaily, z -> z.toLocalDate(), keep);
        keepOnePerPeriod(newestFirst, keepWeekly, z -> z.toLocalDate().with(TemporalAdjusters.previousOrSame(
                DayOfWeek.MONDAY)), keep);
        keepOnePerPeriod(newestFirst, keepMonthly, z -> LocalDate.of(z.getYear(), z.getMonth(), 1), keep);
        keepOnePerPeriod(newestFirst, keepYearly, z -> LocalDate.of(z.getYear(), 1, 1), keep);
        List<RestorePoint> delete = new ArrayList<>();
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            RestorePoint p = newestFirst.get(i);
            if (!keep.contains(p.id())) {
                delete.add(p);
            }
        }
        return delete;
    }

    /** Keeps the newest point of each of the newest {@code count} periods that have a point. */
    private void keepOnePerPeriod(List<RestorePoint> newestFirst, int count, Function<ZonedDateTime, Object> period,
            Set<String> keep) {
        if (count == 0) {
            return;
        }
        Set<Object> seen = new LinkedHashSet<>();
        for (RestorePoint p : newestFirst) {
            Object key = period.apply(p.time().atZone(zone));
            if (seen.add(key)) {
                keep.add(p.id());
                if (seen.size() == count) {
                    return;
                }
            }
        }
    }
}
