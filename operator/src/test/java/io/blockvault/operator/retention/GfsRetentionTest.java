package io.blockvault.operator.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GfsRetentionTest {

    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final Instant NOW = Instant.parse("2026-06-30T12:00:00Z");

    /** One point a day at 01:00 UTC for {@code days} days up to NOW. */
    private static List<RestorePoint> daily(int days) {
        List<RestorePoint> points = new ArrayList<>();
        for (int i = 0; i < days; i++) {
            Instant t = Instant.parse("2026-06-30T01:00:00Z").minus(Duration.ofDays(i));
            points.add(new RestorePoint("d" + i, t, null));
        }
        return points;
    }

    private static List<String> kept(GfsRetention retention, List<RestorePoint> points) {
        List<String> deleted = retention.toDelete(points, NOW).stream().map(RestorePoint::id).toList();
        return points.stream().map(RestorePoint::id).filter(id -> !deleted.contains(id)).toList();
    }

    @Test
    void keepLastKeepsTheNewest() {
        assertThat(kept(new GfsRetention(3, 0, 0, 0, 0, UTC), daily(10))).containsExactly("d0", "d1", "d2");
    }

    @Test
    void dailyKeepsTheNewestPointOfEachDay() {
        List<RestorePoint> points = new ArrayList<>(daily(5));
        points.add(new RestorePoint("d1-early", Instant.parse("2026-06-29T00:10:00Z"), null));
        assertThat(kept(new GfsRetention(0, 3, 0, 0, 0, UTC), points)).containsExactlyInAnyOrder("d0", "d1", "d2");
    }

    @Test
    void weeklyMonthlyAndYearlyKeepOnePerPeriod() {
        List<RestorePoint> points = daily(400);
        // Weeks are ISO weeks (Monday first): 2026-06-30 is a Tuesday, so this week has d0 and d1.
        assertThat(kept(new GfsRetention(0, 0, 2, 0, 0, UTC), points)).containsExactly("d0", "d2");
        // Months: newest of June (d0), of May (d30 = May 31), of April (d61 = April 30).
        assertThat(kept(new GfsRetention(0, 0, 0, 3, 0, UTC), points)).containsExactly("d0", "d30", "d61");
        // Years: newest of 2026 and of 2025 (December 31).
        assertThat(kept(new GfsRetention(0, 0, 0, 0, 2, UTC), points)).containsExactly("d0", "d181");
    }

    @Test
    void rulesAddUp() {
        assertThat(kept(new GfsRetention(2, 0, 0, 2, 0, UTC), daily(40)))
                .containsExactlyInAnyOrder("d0", "d1", "d30");
    }

    @Test
    void calendarDaysAreThoseOfThePolicysTimeZone() {
        // 23:30 UTC on the 29th is already the 30th in Berlin: together with the 30th's point.
        List<RestorePoint> points = List.of(
                new RestorePoint("late-29-utc", Instant.parse("2026-06-29T23:30:00Z"), null),
                new RestorePoint("30th", Instant.parse("2026-06-30T10:00:00Z"), null),
                new RestorePoint("28th", Instant.parse("2026-06-28T10:00:00Z"), null));
        assertThat(kept(new GfsRetention(0, 2, 0, 0, 0, UTC), points)).containsExactlyInAnyOrder("30th",
                "late-29-utc");
        assertThat(kept(new GfsRetention(0, 2, 0, 0, 0, ZoneId.of("Europe/Berlin")), points))
                .containsExactlyInAnyOrder("30th", "28th");
    }

    @Test
    void aLockedPointIsNeverDeleted() {
        List<RestorePoint> points = new ArrayList<>(daily(5));
        points.set(4, new RestorePoint("d4", points.get(4).time(), NOW.plus(Duration.ofDays(1))));
        points.set(3, new RestorePoint("d3", points.get(3).time(), NOW.minus(Duration.ofDays(1))));
        List<String> deleted = new GfsRetention(1, 0, 0, 0, 0, UTC).toDelete(points, NOW).stream()
                .map(RestorePoint::id).toList();
        assertThat(deleted).containsExactly("d3", "d2", "d1"); // oldest first; d4 still locked
        // What no rule keeps, locked or not: retention reports the locked ones as kept.
        assertThat(new GfsRetention(1, 0, 0, 0, 0, UTC).notKept(points)).extracting(RestorePoint::id)
                .containsExactly("d4", "d3", "d2", "d1");
    }

    @Test
    void retentionThatKeepsNothingIsRefused() {
        assertThatThrownBy(() -> new GfsRetention(0, 0, 0, 0, 0, UTC)).hasMessageContaining("keeps nothing");
        assertThatThrownBy(() -> new GfsRetention(-1, 1, 0, 0, 0, UTC)).hasMessageContaining("negative");
    }

    @Test
    void emptyInputDeletesNothing() {
        assertThat(new GfsRetention(1, 1, 1, 1, 1, UTC).toDelete(List.of(), NOW)).isEmpty();
    }
}
