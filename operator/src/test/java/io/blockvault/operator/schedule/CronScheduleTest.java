package io.blockvault.operator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class CronScheduleTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private static Instant berlin(String localDateTime) {
        return LocalDateTime.parse(localDateTime).atZone(BERLIN).toInstant();
    }

    @Test
    void nextRunIsInThePolicysTimeZone() throws Exception {
        CronSchedule s = CronSchedule.parse("30 1 * * *", "Europe/Berlin");
        assertThat(s.next(berlin("2026-01-10T12:00"))).contains(berlin("2026-01-11T01:30"));
        assertThat(s.next(berlin("2026-01-11T01:30"))).contains(berlin("2026-01-12T01:30"));
        // 01:30 Berlin is 00:30 UTC in winter and 23:30 UTC the day before in summer.
        assertThat(s.next(berlin("2026-07-01T00:00"))).contains(Instant.parse("2026-06-30T23:30:00Z"));
    }

    @Test
    void latestRunAtOrBeforeIncludesTheExactMinute() throws Exception {
        CronSchedule s = CronSchedule.parse("0 */6 * * *", "UTC");
        assertThat(s.latestAtOrBefore(Instant.parse("2026-03-01T12:00:00Z"))).contains(Instant.parse("2026-03-01T12:00:00Z"));
        assertThat(s.latestAtOrBefore(Instant.parse("2026-03-01T12:00:30Z"))).contains(Instant.parse("2026-03-01T12:00:00Z"));
        assertThat(s.latestAtOrBefore(Instant.parse("2026-03-01T11:59:59Z"))).contains(Instant.parse("2026-03-01T06:00:00Z"));
    }

    @Test
    void macrosMeanWhatCronMeans() throws Exception {
        assertThat(CronSchedule.parse("@daily", null).next(Instant.parse("2026-03-01T10:00:00Z")))
                .contains(Instant.parse("2026-03-02T00:00:00Z"));
        assertThat(CronSchedule.parse("@hourly", "").next(Instant.parse("2026-03-01T10:10:00Z")))
                .contains(Instant.parse("2026-03-01T11:00:00Z"));
        assertThat(CronSchedule.parse("@weekly", "UTC").next(Instant.parse("2026-03-04T10:00:00Z")))
                .contains(Instant.parse("2026-03-08T00:00:00Z")); // a Sunday
    }

    @Test
    void springForwardSkipsTheMissingHourWithoutLosingTheDay() throws Exception {
        // 2026-03-29 02:00-03:00 does not exist in Berlin. A 02:30 job runs once that day, never twice.
        CronSchedule s = CronSchedule.parse("30 2 * * *", "Europe/Berlin");
        Instant first = s.next(berlin("2026-03-28T12:00")).orElseThrow();
        Instant second = s.next(first).orElseThrow();
        // It runs when the clock jumps (02:00 CET = 03:00 CEST), like Vixie cron.
        assertThat(first).isEqualTo(Instant.parse("2026-03-29T01:00:00Z"));
        assertThat(second).isEqualTo(berlin("2026-03-30T02:30"));
        assertThat(s.latestAtOrBefore(berlin("2026-03-29T12:00"))).contains(first);
    }

    @Test
    void fallBackDoesNotRunTwice() throws Exception {
        // 2026-10-25 02:00-03:00 happens twice in Berlin; a 02:30 job runs once that day.
        CronSchedule s = CronSchedule.parse("30 2 * * *", "Europe/Berlin");
        Instant first = s.next(berlin("2026-10-25T00:00")).orElseThrow();
        Instant second = s.next(first).orElseThrow();
        assertThat(second).isAfter(berlin("2026-10-25T12:00"));
    }

    @Test
    void errorsSayWhatIsWrongAndWhatToWrite() {
        assertThatThrownBy(() -> CronSchedule.parse("61 * * * *", "UTC"))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> {
                    assertThat(e.reason()).isEqualTo("InvalidSchedule");
                    assertThat(e.getMessage()).contains("61 * * * *", "five fields");
                });
        assertThatThrownBy(() -> CronSchedule.parse("0 1 * * *", "Europe/Atlantis"))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> {
                    assertThat(e.reason()).isEqualTo("InvalidTimeZone");
                    assertThat(e.getMessage()).contains("Europe/Atlantis", "IANA");
                });
    }
}
